/**
 * Geometry and error helpers for the results views. Pure functions (no DOM), shared by the webview and the
 * extension host (hover text, CSV export), and unit-tested in plain Node.
 */
import type { MapExtent } from './protocol';

/** Mean Earth radius (IUGG), the radius the paper's proximity error uses for great-circle distances. */
const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle (haversine) distance in km between two [latitude, longitude] points given in degrees. */
export function greatCircleKm(a: readonly number[], b: readonly number[]): number {
  const toRadians = Math.PI / 180;
  const lat1 = a[0] * toRadians;
  const lat2 = b[0] * toRadians;
  const dLat = lat2 - lat1;
  const dLon = (b[1] - a[1]) * toRadians;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1) * Math.cos(lat2) * Math.sin(dLon / 2) ** 2;
  // min() guards against h drifting just above 1 through rounding for antipodal points.
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Error of one prediction in the dataset's natural unit: km for [lat, lon], years for [year]. */
export function predictionError(kind: 'space' | 'time', truth: readonly number[], predicted: readonly number[]): number {
  return kind === 'space' ? greatCircleKm(truth, predicted) : Math.abs(predicted[0] - truth[0]);
}

export function errorUnit(kind: 'space' | 'time'): string {
  return kind === 'space' ? 'km' : 'years';
}

/** [west, south, east, north] in degrees. */
export type BoundingBox = readonly [number, number, number, number];

/**
 * The frame each extent shows. USA is the contiguous states (Alaska and Hawaii fall outside the frame but still
 * count as "in the USA" for choosing the extent, see `USA_MEMBERSHIP_BOX`).
 */
export const EXTENT_FRAMES: Readonly<Record<MapExtent, BoundingBox>> = {
  world: [-180, -90, 180, 90],
  usa: [-125, 24, -66.5, 49.5],
  nyc: [-74.27, 40.49, -73.69, 40.92],
};

const USA_MEMBERSHIP_BOX: BoundingBox = [-180, 18, -64, 72];
/** Slightly wider than the five boroughs so that places just outside (Yonkers, Jersey City) do not flip to USA. */
const NYC_MEMBERSHIP_BOX: BoundingBox = [-74.5, 40.3, -73.4, 41.2];

function inside(box: BoundingBox, latitude: number, longitude: number): boolean {
  return longitude >= box[0] && longitude <= box[2] && latitude >= box[1] && latitude <= box[3];
}

/**
 * Smallest extent that holds at least 98 % of the true positions (a few mislabelled rows in a city dataset
 * should not zoom the map out to the whole world).
 */
export function chooseMapExtent(truePositions: readonly (readonly number[])[]): MapExtent {
  if (truePositions.length === 0) return 'world';
  const share = (box: BoundingBox): number =>
    truePositions.filter((p) => inside(box, p[0], p[1])).length / truePositions.length;
  if (share(NYC_MEMBERSHIP_BOX) >= 0.98) return 'nyc';
  if (share(USA_MEMBERSHIP_BOX) >= 0.98) return 'usa';
  return 'world';
}

/**
 * Every k-th item so that at most `limit` remain, keeping order (deterministic, unlike random sampling,
 * so the picture does not change between renders).
 */
export function thinOut<T>(items: readonly T[], limit: number): readonly T[] {
  if (items.length <= limit) return items;
  const step = items.length / limit;
  const kept: T[] = [];
  for (let i = 0; i < limit; i++) kept.push(items[Math.floor(i * step)]);
  return kept;
}
