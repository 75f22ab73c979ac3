/**
 * Device selection: diagnosis of unusable providers (pure, from injected machine facts), the real probes on this
 * machine (cached once per thread), `auto` falling back with reasons, and forced devices failing with an
 * actionable DeviceUnavailableError. On a CPU-only machine (CI) cuda and webgpu are unusable; where a provider
 * does run, the tests check the other branch instead.
 */
import { describe, test, afterEach } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import {
  CUDA_INSTALL_COMMAND, DeviceUnavailableError, conciseOrtError, cudaProviderFiles, diagnoseCuda, diagnoseWebGpu, hostFacts,
  probeAllProviders, probeProvider, resetProviderProbes, type HostFacts,
} from '../../../src/core/runtime/devices';
import { createSession } from '../../../src/core/runtime/ort';
import { loadTransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { onnxModelDir } from '../../helpers/modelFixtures';

const WEBGPU_ERROR = '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(' +
  'const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. ' +
  'Failed to get a WebGPU adapter: No supported adapters\n';

function facts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    platform: 'linux', arch: 'x64', missingCudaFiles: [], ortBinaryDir: '/x/node_modules/onnxruntime-node/bin/napi-v6/linux/x64',
    vulkanLoader: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1', vulkanIcds: [], nvidiaDriver: false, ...overrides,
  };
}

describe('diagnosis of unusable providers', () => {
  test('onnxruntime messages are cut to the part a user can act on', () => {
    assert.equal(conciseOrtError(new Error(WEBGPU_ERROR)), 'Failed to get a WebGPU adapter: No supported adapters');
    assert.equal(conciseOrtError(new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library')),
      'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
    assert.equal(conciseOrtError(new Error('/src/x.cc:12 something broke\nmore')), 'something broke');
  });

  test('cuda without provider libraries names the files, the folder and the install command', () => {
    const missing = cudaProviderFiles('linux');
    const diagnosis = diagnoseCuda(facts({ missingCudaFiles: missing }));
    assert.match(diagnosis.detail, /CUDA provider libraries not installed/);
    for (const file of missing) assert.ok(diagnosis.detail.includes(file), diagnosis.detail);
    assert.ok(diagnosis.detail.includes('napi-v6/linux/x64'));
    assert.ok(diagnosis.remedy.join(' ').includes(CUDA_INSTALL_COMMAND));
    assert.match(diagnosis.remedy.join(' '), /CUDA 12 and cuDNN 9/);
  });

  test('cuda install command is the one onnxruntime-node\'s install script understands', () => {
    // The script reads ONNXRUNTIME_NODE_INSTALL and accepts "cuda12" for linux/x64 (install-metadata.js).
    const metadata = fs.readFileSync(require.resolve('onnxruntime-node/script/install-metadata.js'), 'utf8');
    assert.match(metadata, /'linux\/x64': \['cuda12'\]/);
    assert.match(metadata, /libonnxruntime_providers_cuda\.so/);
    const utils = fs.readFileSync(require.resolve('onnxruntime-node/script/install-utils.js'), 'utf8');
    assert.ok(utils.includes('process.env.ONNXRUNTIME_NODE_INSTALL'));
    assert.match(CUDA_INSTALL_COMMAND, /^ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node$/);
  });

  test('cuda on a platform without a CUDA build says so', () => {
    assert.match(diagnoseCuda(facts({ platform: 'darwin', arch: 'arm64' })).detail, /no CUDA provider for darwin-arm64/);
  });

  test('cuda libraries present but failing points at the CUDA runtime or the driver', () => {
    const withDriver = diagnoseCuda(facts({ nvidiaDriver: true }), new Error('Failed to load shared library'));
    assert.match(withDriver.detail, /installed but could not start: Failed to load shared library/);
    assert.match(withDriver.remedy.join(' '), /libcudart\.so\.12.*libcudnn\.so\.9/);
    assert.match(diagnoseCuda(facts(), new Error('x')).remedy.join(' '), /No NVIDIA driver/);
  });

  test('webgpu without the Vulkan loader asks for libvulkan1 (and the NVIDIA ICD when a driver is there)', () => {
    const plain = diagnoseWebGpu(facts({ vulkanLoader: undefined }), new Error(WEBGPU_ERROR));
    assert.match(plain.detail, /Vulkan loader libvulkan\.so\.1 is not installed/);
    assert.match(plain.detail, /No supported adapters/);
    assert.match(plain.remedy.join(' '), /apt-get install libvulkan1/);
    const nvidia = diagnoseWebGpu(facts({ vulkanLoader: undefined, nvidiaDriver: true }), new Error(WEBGPU_ERROR));
    assert.match(nvidia.remedy.join(' '), /VK_DRIVER_FILES.*nvidia_icd\.json/);
    const withIcd = diagnoseWebGpu(facts({ vulkanLoader: undefined, nvidiaDriver: true, vulkanIcds: ['/etc/vulkan/icd.d/nvidia_icd.json'] }), new Error(WEBGPU_ERROR));
    assert.match(withIcd.remedy.join(' '), /its ICD is \/etc\/vulkan\/icd\.d\/nvidia_icd\.json/);
  });

  test('webgpu with a loader: missing NVIDIA ICD, or no GPU at all', () => {
    const noIcd = diagnoseWebGpu(facts({ nvidiaDriver: true }), new Error(WEBGPU_ERROR));
    assert.match(noIcd.detail, /NVIDIA driver is loaded but no NVIDIA Vulkan ICD/);
    assert.match(noIcd.remedy.join(' '), /VK_DRIVER_FILES/);
    const noGpu = diagnoseWebGpu(facts({ vulkanIcds: ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'] }), new Error(WEBGPU_ERROR));
    assert.match(noGpu.detail, /lvp_icd/);
    assert.match(noGpu.remedy.join(' '), /lavapipe.*use cpu/);
  });

  test('DeviceUnavailableError carries the detail, the remedy and the way out', () => {
    const error = new DeviceUnavailableError('cuda', 'CUDA provider libraries not installed', ['run X']);
    assert.equal(error.name, 'DeviceUnavailableError');
    assert.match(error.message, /^--device cuda cannot be used here: CUDA provider libraries not installed\n {2}run X\n {2}Use --device auto/);
  });
});

describe('provider probes on this machine', () => {
  afterEach(() => resetProviderProbes());

  test('cpu is always usable; every unusable provider says why and what to do', async () => {
    const probes = await probeAllProviders();
    assert.deepEqual(probes.map((probe) => probe.device), ['cpu', 'webgpu', 'cuda']);
    assert.equal(probes[0].usable, true);
    for (const probe of probes) {
      assert.ok(probe.detail.length > 0);
      if (!probe.usable) assert.ok(probe.remedy.length > 0, `${probe.device}: no remedy`);
    }
    const machine = hostFacts();
    const cuda = probes[2];
    if (machine.missingCudaFiles.length > 0) {
      assert.equal(cuda.usable, false);
      assert.match(cuda.detail, /CUDA provider libraries not installed/);
    }
  });

  test('each provider is probed once per thread: later calls return the cached verdict', async () => {
    let calls = 0;
    resetProviderProbes(() => { calls++; return hostFacts(); });
    const first = probeProvider('webgpu');
    assert.equal(probeProvider('webgpu'), first);
    await first;
    await probeProvider('webgpu');
    assert.equal(calls, 1);
  });

  test('a cuda probe without provider libraries creates no session (answers from the file check alone)', async () => {
    resetProviderProbes(() => ({ ...hostFacts(), missingCudaFiles: cudaProviderFiles() }));
    const probe = await probeProvider('cuda');
    assert.equal(probe.usable, false);
    assert.match(probe.detail, /not installed/);
  });
});

describe('createSession device selection', () => {
  const model = (): string => `${onnxModelDir('gpt2-tiny')}/onnx/model.onnx`;

  test('auto runs on the first usable of cuda, webgpu, cpu and records why the others were skipped', async () => {
    const probes = await probeAllProviders();
    const usable = (device: string) => probes.find((probe) => probe.device === device)?.usable ?? false;
    const { session, device } = await createSession(model(), { device: 'auto' });
    await session.release();
    const expected = usable('cuda') ? 'cuda' : usable('webgpu') ? 'webgpu' : 'cpu';
    assert.equal(device.requested, 'auto');
    assert.equal(device.used, expected);
    const skipped = (['cuda', 'webgpu'] as const).slice(0, expected === 'cuda' ? 0 : expected === 'webgpu' ? 1 : 2);
    assert.equal(device.fallbacks.length, skipped.length);
    skipped.forEach((name, index) => {
      const probe = probes.find((candidate) => candidate.device === name);
      assert.equal(device.fallbacks[index], `${name}: ${probe?.detail}`);
    });
  });

  for (const forced of ['cuda', 'webgpu'] as const) {
    test(`forcing ${forced} where it cannot run fails with what is missing (no silent fallback)`, async (t) => {
      const probe = await probeProvider(forced);
      if (probe.usable) {
        t.diagnostic(`${forced} is usable here; checking that it is used`);
        const { session, device } = await createSession(model(), { device: forced });
        await session.release();
        assert.equal(device.used, forced);
        return;
      }
      await assert.rejects(createSession(model(), { device: forced }), (error: unknown) => {
        assert.ok(error instanceof DeviceUnavailableError);
        assert.equal(error.device, forced);
        assert.ok(error.message.includes(probe.detail));
        for (const line of probe.remedy) assert.ok(error.message.includes(line));
        return true;
      });
      // Through the model loader the same error arrives unwrapped (the CLI maps it to exit code 2).
      await assert.rejects(loadTransformerModel(onnxModelDir('gpt2-tiny'), { device: forced }), DeviceUnavailableError);
    });
  }
});
