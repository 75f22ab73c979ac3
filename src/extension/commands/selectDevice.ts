/** "Select Device": writes the `spacetimeProbe.device` setting; the status bar shows what actually ran. */
import * as vscode from 'vscode';
import type { Command } from './command';
import type { Services } from '../services';
import { DEVICE_REQUESTS, readSettings, updateSetting } from '../config';
import type { DeviceRequest } from '../../core/model/types';
import { probeAllProviders, type ProviderProbe } from '../../core/runtime/devices';

const DESCRIPTIONS: Record<DeviceRequest, string> = {
  auto: 'CUDA, then WebGPU, then CPU: the first that runs here (the log says why the others did not)',
  cpu: 'onnxruntime CPU provider: always available',
  webgpu: 'WebGPU (Vulkan on Linux, D3D12 on Windows, Metal on macOS): needs a GPU and its driver',
  cuda: 'NVIDIA GPU: needs onnxruntime-node\'s CUDA 12 provider libraries, CUDA 12 and cuDNN 9',
};

/** The picker's detail line: the probe's verdict on this machine, or the static description. */
function detailFor(device: DeviceRequest, probes: readonly ProviderProbe[] | undefined): string {
  const probe = probes?.find((candidate) => candidate.device === device);
  if (!probe) return DESCRIPTIONS[device];
  return probe.usable ? `${DESCRIPTIONS[device]} (usable here)` : `Not usable here: ${probe.detail}`;
}

export class SelectDeviceCommand implements Command {
  readonly id = 'spacetimeProbe.selectDevice';
  constructor(private readonly services: Services) {}

  async execute(device?: unknown): Promise<DeviceRequest | undefined> {
    let choice = typeof device === 'string' && (DEVICE_REQUESTS as readonly string[]).includes(device) ? (device as DeviceRequest) : undefined;
    const interactive = !choice;
    if (!choice) {
      const current = readSettings().device;
      // Probing creates a tiny session per provider (cached for the extension host's lifetime).
      const probes = await probeAllProviders().catch((error: unknown) => {
        this.services.log.warn(`Device probe failed: ${String(error)}`);
        return undefined;
      });
      for (const probe of probes ?? []) {
        if (!probe.usable) this.services.log.info(`Device ${probe.device} not usable: ${probe.detail}${probe.remedy.length ? ` — ${probe.remedy.join(' ')}` : ''}`);
      }
      const picked = await vscode.window.showQuickPick(
        DEVICE_REQUESTS.map((d) => ({ label: d, description: d === current ? '(current)' : undefined, detail: detailFor(d, probes), device: d })),
        { title: 'Spacetime Probe: execution device', placeHolder: 'Where models run (the status bar shows the device actually used)' },
      );
      choice = picked?.device;
    }
    if (!choice) return undefined;
    if (!await updateSetting('device', choice, { ask: interactive })) return undefined;
    this.services.log.info(`Device setting changed to ${choice}.`);
    return choice;
  }
}
