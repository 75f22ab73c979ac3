/**
 * @file The Hugging Face Hub cache layout (as huggingface_hub writes it), so a model downloaded by Python tools is
 * reused here and vice versa:
 *
 *   <cache>/models--<org>--<name>/blobs/<etag>                   file contents (etag = LFS sha256 or git blob sha1)
 *   <cache>/models--<org>--<name>/blobs/<etag>.incomplete        a download in progress (resumed with Range)
 *   <cache>/models--<org>--<name>/snapshots/<commit>/<path>      relative symlink → ../../blobs/<etag>
 *   <cache>/models--<org>--<name>/refs/<revision>                the commit a branch/tag pointed to
 *
 * Cache folder: `$HF_HUB_CACHE`, else `$HUGGINGFACE_HUB_CACHE` (legacy), else `$HF_HOME/hub`, else
 * `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` — huggingface_hub's order.
 * Where symlinks are not allowed (Windows without developer mode) files are copied into the snapshot, as
 * huggingface_hub does.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelLoadError } from '../errors';
import { writeFileAtomicSync } from '../../util/atomicWrite';
import { listModelVariants, parseTransformerConfig, type ModelVariantFile } from '../modelFolder';

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return path.resolve(env.HF_HUB_CACHE);
  if (env.HUGGINGFACE_HUB_CACHE) return path.resolve(env.HUGGINGFACE_HUB_CACHE);
  if (env.HF_HOME) return path.resolve(env.HF_HOME, 'hub');
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'huggingface', 'hub');
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** Throws unless `repoId` is `name` or `org/name` with Hub-legal characters (keeps paths inside the cache). */
export function checkRepoId(repoId: string): void {
  if (!REPO_ID.test(repoId) || repoId.includes('..')) {
    throw new ModelLoadError(`${JSON.stringify(repoId)} is not a Hub model id (expected org/name, e.g. openai-community/gpt2)`);
  }
}

/** Throws unless the revision can name a refs/ file safely (branches, tags, commits, refs/pr/N). */
export function checkRevision(revision: string): void {
  if (revision === '' || revision.split('/').some((part) => part === '' || part === '.' || part === '..') || /[\\\0]/.test(revision)) {
    throw new ModelLoadError(`${JSON.stringify(revision)} is not a usable revision (a branch, tag or commit)`);
  }
}

export function repoFolder(cacheDir: string, repoId: string): string {
  checkRepoId(repoId);
  return path.join(cacheDir, `models--${repoId.split('/').join('--')}`);
}

export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/** The commit a revision resolves to in the cache (itself for a commit hash), if known. */
export function readRef(repoDir: string, revision: string): string | undefined {
  if (isCommitHash(revision)) return revision;
  checkRevision(revision);
  try {
    const commit = fs.readFileSync(path.join(repoDir, 'refs', revision), 'utf8').trim();
    return isCommitHash(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

export function writeRef(repoDir: string, revision: string, commit: string): void {
  if (revision === commit) return;
  checkRevision(revision);
  const file = path.join(repoDir, 'refs', revision);
  writeFileAtomicSync(file, commit);
}

export function snapshotDir(repoDir: string, commit: string): string {
  return path.join(repoDir, 'snapshots', commit);
}

export function blobFile(repoDir: string, etag: string): string {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(etag)) throw new Error(`unexpected blob id "${etag}"`);
  return path.join(repoDir, 'blobs', etag);
}

/** Place a blob at its snapshot path: a relative symlink, or a copy where symlinks are not permitted. */
export function linkSnapshotFile(repoDir: string, commit: string, relativePath: string, etag: string): void {
  const target = path.join(snapshotDir(repoDir, commit), ...relativePath.split('/'));
  if (!target.startsWith(snapshotDir(repoDir, commit) + path.sep)) throw new Error(`file path "${relativePath}" escapes the snapshot`);
  const blob = blobFile(repoDir, etag);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.rmSync(target, { force: true });
  try {
    fs.symlinkSync(path.relative(path.dirname(target), blob), target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOTSUP') throw error;
    fs.copyFileSync(blob, target);
  }
}

export interface CachedHubModel {
  readonly repoId: string;
  readonly commit: string;
  /** Refs (branches/tags) pointing at this snapshot. */
  readonly refs: readonly string[];
  readonly dir: string;
  /** .onnx files in the snapshot (relative paths). */
  readonly onnxFiles: readonly string[];
  /** The snapshot holds a safetensors checkpoint (model.safetensors or its shard index). */
  readonly safetensors: boolean;
  /** The ONNX exports `--variant` can name (fp32, fp16, q8, q4, …), with their files (modelFolder.listModelVariants). */
  readonly variants: readonly ModelVariantFile[];
  /** Bytes of the files the snapshot links to. */
  readonly bytes: number;
  readonly architecture?: string;
  readonly numHiddenLayers?: number;
  readonly hiddenSize?: number;
}

function walkFiles(dir: string, prefix = ''): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? walkFiles(path.join(dir, entry.name), relative) : [relative];
  });
}

function listRefs(repoDir: string): Map<string, string[]> {
  const byCommit = new Map<string, string[]>();
  for (const ref of walkFiles(path.join(repoDir, 'refs'))) {
    const commit = readRef(repoDir, ref);
    if (commit) byCommit.set(commit, [...(byCommit.get(commit) ?? []), ref]);
  }
  return byCommit;
}

/** Every model snapshot in a Hub cache that holds at least one .onnx file or a safetensors checkpoint. */
export function listCachedHubModels(cacheDir: string = hubCacheDir()): CachedHubModel[] {
  let repos: string[];
  try {
    repos = fs.readdirSync(cacheDir).filter((name) => name.startsWith('models--'));
  } catch {
    return [];
  }
  const models: CachedHubModel[] = [];
  for (const folder of repos.sort()) {
    const repoDir = path.join(cacheDir, folder);
    const repoId = folder.slice('models--'.length).split('--').join('/');
    const refs = listRefs(repoDir);
    let commits: string[];
    try {
      commits = fs.readdirSync(path.join(repoDir, 'snapshots'));
    } catch {
      continue;
    }
    for (const commit of commits) {
      const dir = snapshotDir(repoDir, commit);
      const files = walkFiles(dir);
      const onnxFiles = files.filter((file) => file.endsWith('.onnx'));
      const safetensors = files.includes('model.safetensors') || files.includes('model.safetensors.index.json');
      if (onnxFiles.length === 0 && !safetensors) continue;
      let bytes = 0;
      for (const file of files) {
        try {
          bytes += fs.statSync(path.join(dir, file)).size;
        } catch {
          // A dangling link (blob deleted): not counted.
        }
      }
      let config: ReturnType<typeof parseTransformerConfig> = {};
      try {
        config = parseTransformerConfig(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')));
      } catch {
        // No or unreadable config.json: sizes unknown.
      }
      models.push({
        repoId, commit, refs: refs.get(commit) ?? [], dir, onnxFiles, safetensors, variants: listModelVariants(dir, files), bytes,
        architecture: config.modelType, numHiddenLayers: config.numHiddenLayers, hiddenSize: config.hiddenSize,
      });
    }
  }
  return models;
}
