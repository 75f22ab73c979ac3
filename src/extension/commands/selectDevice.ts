/** "Select Device": writes the `spacetimeProbe.device` setting; the status bar shows what actually ran. */
import * as vscode from 'vscode';
import type { Command } from './command';
import type { Services } from '../services';
import { DEVICE_REQUESTS, readSettings, updateSetting } from '../config';
import type { DeviceRequest } from '../../core/model/types';

const DESCRIPTIONS: Record<DeviceRequest, string> = {
  auto: 'CUDA when its libraries load, else CPU (falls back with a reason in the log)',
  cpu: 'onnxruntime CPU provider: always available',
  webgpu: 'WebGPU provider where onnxruntime-node ships it',
  cuda: 'NVIDIA GPU: needs the CUDA 12 provider libraries',
};

export class SelectDeviceCommand implements Command {
  readonly id = 'spacetimeProbe.selectDevice';
  constructor(private readonly services: Services) {}

  async execute(device?: unknown): Promise<DeviceRequest | undefined> {
    let choice = typeof device === 'string' && (DEVICE_REQUESTS as readonly string[]).includes(device) ? (device as DeviceRequest) : undefined;
    if (!choice) {
      const current = readSettings().device;
      const picked = await vscode.window.showQuickPick(
        DEVICE_REQUESTS.map((d) => ({ label: d, description: d === current ? '(current)' : undefined, detail: DESCRIPTIONS[d], device: d })),
        { title: 'Spacetime Probe: execution device', placeHolder: 'Where models run (the status bar shows the device actually used)' },
      );
      choice = picked?.device;
    }
    if (!choice) return undefined;
    await updateSetting('device', choice);
    this.services.log.info(`Device setting changed to ${choice}.`);
    return choice;
  }
}
