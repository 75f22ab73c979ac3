/**
 * `spacetime-probe devices`: which execution providers can run here, and for each one that cannot, why and
 * what to do about it. Each provider is probed with a one-node session (src/core/runtime/devices.ts).
 */
import type { CliCommand } from '../command';
import { parseCommandArgs, UsageError } from '../command';
import { formatTable } from '../format';
import { autoDeviceChoice, probeAllProviders } from '../../core/runtime/devices';

export const devicesCommand: CliCommand = {
  name: 'devices',
  summary: 'list execution providers (cpu, webgpu, cuda), whether each can run here, and why not',
  usage: `usage: spacetime-probe devices [--json]

Probes each onnxruntime execution provider with a tiny model and prints whether it can run on this
machine, what is missing when it cannot (CUDA provider libraries, Vulkan loader, GPU driver…) and how
to get it. \`--device auto\` uses the first usable of cuda, webgpu, cpu.

options:
  --json               print the probes as JSON
`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('devices', args, { json: { type: 'boolean', default: false } });
    if (positionals.length > 0) throw new UsageError(`devices: unexpected argument "${positionals[0]}"`);
    const probes = await probeAllProviders();
    const auto = autoDeviceChoice(probes);
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ auto, providers: probes }, null, 2)}\n`);
      return 0;
    }
    const rows = probes.map((probe) => [probe.device, probe.usable ? 'yes' : 'no', probe.detail]);
    io.stdout.write(formatTable(['device', 'usable', 'detail'], rows, ['left', 'left', 'left']));
    for (const probe of probes) {
      if (probe.usable || probe.remedy.length === 0) continue;
      io.stdout.write(`\nto use ${probe.device}:\n${probe.remedy.map((line) => `  ${line}`).join('\n')}\n`);
    }
    io.stdout.write(`\n--device auto runs on: ${auto}\n`);
    return 0;
  },
};
