/**
 * @file Which execution providers can run here, and why not: one probe per provider per thread, cached.
 *
 * onnxruntime-node 1.30 lists cpu and webgpu as "bundled" and cuda as not, whether or not they can run on this
 * machine: webgpu needs a GPU adapter (on Linux: the Vulkan loader libvulkan.so.1 plus the GPU driver's Vulkan
 * ICD), cuda needs provider libraries that onnxruntime-node's install script downloads only on linux-x64 machines
 * with internet, plus CUDA 12 and cuDNN 9 runtime libraries. The only reliable test is to create a session, so a
 * probe creates a one-node session on the provider and runs it once. A failed WebGPU probe costs ~0.2 s and prints
 * native warnings, hence the cache: every later session creation in this thread reuses the verdict.
 *
 * Each failed probe carries a `detail` (what is missing, in one line) and a `remedy` (what to do), which
 * createSession puts into the fallback list (auto) or into DeviceUnavailableError (a forced device).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import './onnxruntimeTelemetry';
import * as ort from 'onnxruntime-node';
import type { DeviceName } from '../model/types';

export const DEVICE_NAMES: readonly DeviceName[] = ['cpu', 'webgpu', 'cuda'];

/** The order `--device auto` tries providers in (createSession) and reports (`spacetime-probe devices`). */
export const AUTO_DEVICE_ORDER: readonly DeviceName[] = ['cuda', 'webgpu', 'cpu'];

export interface ProviderProbe {
  readonly device: DeviceName;
  readonly usable: boolean;
  /** One line: what is missing when not usable; what was used when usable. */
  readonly detail: string;
  /** Actionable steps that would make the provider usable (empty when usable). */
  readonly remedy: readonly string[];
  /** Time the probe took (session creation and one run), for diagnostics. */
  readonly milliseconds: number;
}

/** A device the user asked for explicitly cannot run here (or cannot run this model): the CLI exits with code 2. */
export class DeviceUnavailableError extends Error {
  override readonly name = 'DeviceUnavailableError';
  constructor(readonly device: DeviceName, readonly detail: string, readonly remedy: readonly string[] = []) {
    super(`--device ${device} cannot be used here: ${detail}` +
      (remedy.length > 0 ? `\n  ${remedy.join('\n  ')}` : '') +
      '\n  Use --device auto to fall back to an available provider (or cpu).');
  }
}

/** The folder of onnxruntime-node's native binding for this platform, where provider libraries must sit. */
export function ortBinaryDir(): string {
  let packageDir: string;
  try {
    packageDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    packageDir = path.join('node_modules', 'onnxruntime-node');
  }
  return path.join(packageDir, 'bin', 'napi-v6', process.platform, process.arch);
}

/** File names of the CUDA execution-provider libraries onnxruntime-node loads from ortBinaryDir(). */
export function cudaProviderFiles(platform: NodeJS.Platform = process.platform): readonly string[] {
  return platform === 'win32'
    ? ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll']
    : ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
}

/** The command that downloads the CUDA provider libraries (onnxruntime-node's own install script, NuGet feed). */
export const CUDA_INSTALL_COMMAND = 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node';

/** Machine facts the diagnosis of a failed probe depends on (injectable for tests). */
export interface HostFacts {
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  /** Missing CUDA provider library files in ortBinaryDir() (empty when all are there). */
  readonly missingCudaFiles: readonly string[];
  readonly ortBinaryDir: string;
  /** Linux: where libvulkan.so.1 was found, or undefined. */
  readonly vulkanLoader?: string;
  /** Vulkan ICD manifests found (VK_DRIVER_FILES / VK_ICD_FILENAMES and the standard icd.d folders). */
  readonly vulkanIcds: readonly string[];
  /** An NVIDIA kernel driver is loaded (/proc/driver/nvidia/version or /dev/nvidia0 exists). */
  readonly nvidiaDriver: boolean;
}

const LIBRARY_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib'];
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'];

function exists(file: string): boolean {
  try {
    fs.accessSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Where the dynamic linker would find `name` (LD_LIBRARY_PATH, the usual folders, then `ldconfig -p`), if anywhere. */
export function findSharedLibrary(name: string): string | undefined {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    if (exists(file)) return file;
  }
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    if (!exists(ldconfig)) continue;
    try {
      const listing = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
      const line = listing.split('\n').find((entry) => entry.trim().startsWith(`${name} `));
      if (line) return line.split('=>').pop()?.trim();
    } catch {
      // No cache to read: treat as not found.
    }
    break;
  }
  return undefined;
}

function vulkanIcdManifests(): string[] {
  const listed = [process.env.VK_DRIVER_FILES, process.env.VK_ICD_FILENAMES]
    .flatMap((value) => (value ?? '').split(path.delimiter)).filter((file) => file && exists(file));
  const found: string[] = [...listed];
  for (const dir of ICD_DIRS) {
    try {
      for (const entry of fs.readdirSync(dir)) if (entry.endsWith('.json')) found.push(path.join(dir, entry));
    } catch {
      // Folder absent.
    }
  }
  return [...new Set(found)];
}

/** Read the facts about this machine that explain a failed probe. */
export function hostFacts(): HostFacts {
  const binaryDir = ortBinaryDir();
  return {
    platform: process.platform,
    arch: process.arch,
    missingCudaFiles: cudaProviderFiles().filter((file) => !exists(path.join(binaryDir, file))),
    ortBinaryDir: binaryDir,
    vulkanLoader: process.platform === 'linux' ? findSharedLibrary('libvulkan.so.1') : undefined,
    vulkanIcds: process.platform === 'linux' ? vulkanIcdManifests() : [],
    nvidiaDriver: exists('/proc/driver/nvidia/version') || exists('/dev/nvidia0'),
  };
}

/** onnxruntime's messages start with a source path and an assertion; keep the part a user can act on. */
export function conciseOrtError(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).trim();
  const adapter = /Failed to get a WebGPU adapter[^\n]*/.exec(text);
  if (adapter) return adapter[0].trim();
  const firstLine = text.split('\n')[0];
  const afterAssertion = /\bwas false\.\s*(.+)$/.exec(firstLine);
  const stripped = (afterAssertion ? afterAssertion[1] : firstLine).replace(/^\/\S+:\d+\s+/, '');
  return stripped.slice(0, 300);
}

/** onnxruntime's whole message, every line kept (indented continuation lines), with source-file prefixes removed. */
export function fullOrtError(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).trim();
  return text.split('\n').map((line) => line.trim().replace(/^\/\S+:\d+\s+/, '')).filter((line) => line).join('\n    ');
}

/** Why CUDA could not be used, and what would fix it. `error` is the session error when the libraries exist. */
export function diagnoseCuda(facts: HostFacts, error?: unknown): Pick<ProviderProbe, 'detail' | 'remedy'> {
  if (!(facts.platform === 'linux' && facts.arch === 'x64') && !(facts.platform === 'win32' && facts.arch === 'x64')) {
    return {
      detail: `onnxruntime-node has no CUDA provider for ${facts.platform}-${facts.arch}`,
      remedy: ['CUDA needs an x64 Linux or Windows machine with an NVIDIA GPU; use webgpu or cpu here.'],
    };
  }
  if (facts.missingCudaFiles.length > 0) {
    return {
      detail: `CUDA provider libraries not installed (${facts.missingCudaFiles.join(', ')} missing in ${facts.ortBinaryDir})`,
      remedy: [
        `onnxruntime-node downloads them from NuGet at install time on machines with internet; to fetch them now run, in the folder that holds node_modules: ${CUDA_INSTALL_COMMAND}`,
        '(or: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js). They need an NVIDIA driver, CUDA 12 and cuDNN 9 libraries on the library path.',
      ],
    };
  }
  return {
    detail: `CUDA provider libraries are installed but could not start: ${conciseOrtError(error)}`,
    remedy: [
      facts.nvidiaDriver ? 'The NVIDIA driver is loaded: check that the CUDA 12 runtime (libcudart.so.12, libcublas.so.12) and cuDNN 9 (libcudnn.so.9) are on LD_LIBRARY_PATH.'
        : 'No NVIDIA driver was found (/proc/driver/nvidia/version): CUDA needs an NVIDIA GPU and its driver.',
    ],
  };
}

/** Why WebGPU could not be used, and what would fix it. */
export function diagnoseWebGpu(facts: HostFacts, error: unknown): Pick<ProviderProbe, 'detail' | 'remedy'> {
  const message = conciseOrtError(error);
  if (facts.platform !== 'linux') {
    return {
      detail: `no WebGPU adapter: ${message}`,
      remedy: [facts.platform === 'win32' ? 'WebGPU uses Direct3D 12: update the GPU driver.' : 'WebGPU uses Metal: it needs a Mac with Apple silicon or a Metal GPU.'],
    };
  }
  const nvidiaIcd = facts.vulkanIcds.find((file) => /nvidia/i.test(path.basename(file)));
  if (!facts.vulkanLoader) {
    return {
      detail: `no WebGPU adapter: the Vulkan loader libvulkan.so.1 is not installed (${message})`,
      remedy: [
        'Install the Vulkan loader (Debian/Ubuntu: apt-get install libvulkan1) and a GPU driver with a Vulkan ICD.',
        ...(facts.nvidiaDriver ? [nvidiaIcd ? `NVIDIA driver found; its ICD is ${nvidiaIcd}.`
          : 'NVIDIA driver found: point VK_DRIVER_FILES at its nvidia_icd.json (often /usr/share/vulkan/icd.d/ or /usr/local/nvidia/share/vulkan/icd.d/).'] : []),
      ],
    };
  }
  if (facts.nvidiaDriver && !nvidiaIcd) {
    return {
      detail: `no WebGPU adapter: the NVIDIA driver is loaded but no NVIDIA Vulkan ICD manifest was found (${message})`,
      remedy: ['Point VK_DRIVER_FILES at the driver\'s nvidia_icd.json (often /usr/share/vulkan/icd.d/ or /usr/local/nvidia/share/vulkan/icd.d/).'],
    };
  }
  return {
    detail: `no WebGPU adapter (${message}); Vulkan loader ${facts.vulkanLoader}, ICDs: ${facts.vulkanIcds.length > 0 ? facts.vulkanIcds.join(', ') : 'none'}`,
    remedy: [facts.nvidiaDriver
      ? 'The NVIDIA driver and its ICD are present: check that the ICD matches the kernel driver (VK_LOADER_DEBUG=error shows why it is rejected).'
      : 'WebGPU needs a GPU with a Vulkan driver; software Vulkan (Mesa lavapipe) is rejected by Dawn. On a machine without a GPU use cpu.'],
  };
}

/** A one-node float32 `Add` graph: small enough to create in milliseconds, real enough to need a working device. */
function probeModel(): Uint8Array {
  const type = { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 4 }] } } };
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'spacetime-probe-device-probe',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'probe',
      node: [{ opType: 'Add', input: ['a', 'b'], output: ['c'] }],
      input: [{ name: 'a', type }, { name: 'b', type }],
      output: [{ name: 'c', type }],
    },
  })).finish();
}

/** Create a session on `device` and run it once; resolves to the error, or undefined when it worked. */
async function trySession(device: DeviceName): Promise<unknown> {
  let session: ort.InferenceSession | undefined;
  try {
    // logSeverityLevel 3: onnxruntime's own error lines for a failed provider would otherwise be printed twice.
    session = await ort.InferenceSession.create(probeModel(), { executionProviders: [device], logSeverityLevel: 3 });
    const a = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]);
    const b = new ort.Tensor('float32', Float32Array.from([10, 20, 30, 40]), [4]);
    const result = await session.run({ a, b });
    const sum = (result.c as ort.Tensor).data as Float32Array;
    if (sum[0] !== 11 || sum[3] !== 44) return new Error(`probe computed wrong values on ${device}: [${Array.from(sum).join(', ')}]`);
    return undefined;
  } catch (error) {
    return error ?? new Error('unknown error');
  } finally {
    await session?.release().catch(() => undefined);
  }
}

const probes = new Map<DeviceName, Promise<ProviderProbe>>();
let factsOverride: (() => HostFacts) | undefined;

async function runProbe(device: DeviceName): Promise<ProviderProbe> {
  const started = performance.now();
  const done = (usable: boolean, detail: string, remedy: readonly string[] = []): ProviderProbe =>
    ({ device, usable, detail, remedy, milliseconds: performance.now() - started });
  const facts = (factsOverride ?? hostFacts)();
  // Without its libraries the CUDA provider cannot load; skip the session (and onnxruntime's error printout).
  if (device === 'cuda' && facts.missingCudaFiles.length > 0) {
    const { detail, remedy } = diagnoseCuda(facts);
    return done(false, detail, remedy);
  }
  const error = await trySession(device);
  if (error === undefined) {
    const note = device === 'cpu' ? 'onnxruntime CPU provider'
      : device === 'cuda' ? `CUDA provider libraries in ${facts.ortBinaryDir}`
        : facts.platform === 'linux' ? `WebGPU (Dawn over Vulkan; loader ${facts.vulkanLoader ?? 'found by the system'})` : 'WebGPU';
    return done(true, note);
  }
  if (device === 'cuda') {
    const { detail, remedy } = diagnoseCuda(facts, error);
    return done(false, detail, remedy);
  }
  if (device === 'webgpu') {
    const { detail, remedy } = diagnoseWebGpu(facts, error);
    return done(false, detail, remedy);
  }
  return done(false, `the CPU provider failed: ${conciseOrtError(error)}`, ['Reinstall onnxruntime-node (its native binding did not load).']);
}

/**
 * Whether `device` can run here, probed once per thread (later calls return the cached verdict).
 * Never rejects: a failure is a probe with `usable: false`.
 */
export function probeProvider(device: DeviceName): Promise<ProviderProbe> {
  let probe = probes.get(device);
  if (!probe) {
    probe = runProbe(device);
    probes.set(device, probe);
  }
  return probe;
}

/** The device `--device auto` would pick, given the probes: the first usable in AUTO_DEVICE_ORDER. */
export function autoDeviceChoice(probes: readonly ProviderProbe[]): DeviceName {
  for (const device of AUTO_DEVICE_ORDER) if (probes.find((probe) => probe.device === device)?.usable) return device;
  return 'cpu';
}

/** Probe every provider (cpu, webgpu, cuda), for `spacetime-probe devices` and the extension's device picker. */
export async function probeAllProviders(): Promise<ProviderProbe[]> {
  const results: ProviderProbe[] = [];
  // One at a time: session creation blocks the thread anyway, and the order of native warnings stays readable.
  for (const device of DEVICE_NAMES) results.push(await probeProvider(device));
  return results;
}

/** Tests: forget cached verdicts, and optionally replace the machine facts used to diagnose failures. */
export function resetProviderProbes(facts?: () => HostFacts): void {
  probes.clear();
  factsOverride = facts;
}
