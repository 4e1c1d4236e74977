import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOciArchive } from '../../build/buildah.js';
import { type RawInputs, resolveConfig } from '../../config/load.js';
import { parseImageReference } from '../../context/reference.js';
import { registryCredentials } from '../../registry/auth.js';
import { hostOf, isInsecure } from '../../registry/hosts.js';
import { isLocalImage } from '../../registry/push.js';
import { scanImage } from '../../scan/index.js';
import { InputError } from '../../util/errors.js';
import { log } from '../../util/log.js';
import type { GlobalOptions } from '../main.js';
import type { CommandOutcome } from '../output.js';

export async function runScanCommand(raw: RawInputs, globals: GlobalOptions): Promise<CommandOutcome> {
  const config = resolveConfig({ command: 'scan', raw, configPath: globals.config });
  if (!config.image)
    throw new InputError('--image', 'required: the local image or registry reference to scan');
  parseImageReference(config.image, '--image');
  const scan = config.scan;
  const work = await mkdtemp(join(tmpdir(), 'gantry-scan-'));
  try {
    // A locally built image is scanned from an OCI archive, so a scan can gate the push.
    const local = await isLocalImage(config.image);
    let archive: string | undefined;
    if (local) {
      archive = join(work, 'image.tar');
      log.info(`exporting local image ${config.image} for scanning`);
      await exportOciArchive(config.image, archive);
    }
    const result = await scanImage({
      target: {
        ref: config.image,
        archive,
        insecure: isInsecure(hostOf(config.image), config.registry.insecure),
        ...(local ? {} : { credentials: await registryCredentials(hostOf(config.image)) }),
      },
      scanner: scan.scanner,
      kinds: scan.scanners,
      severityThreshold: scan.severityThreshold === 'none' ? 'unknown' : scan.severityThreshold,
      gate: scan.severityThreshold !== 'none',
      ignoreUnfixed: scan.ignoreUnfixed,
      ignoreFile: scan.ignoreFile,
      reports: { sarif: scan.sarif, gitlab: scan.gitlabReport, junit: scan.junit, markdown: scan.markdown },
    });
    const c = result.counts;
    const summary = [
      `${result.passed ? 'PASSED' : 'FAILED'}: ${config.image} — critical ${c.critical}, high ${c.high}, medium ${c.medium}, low ${c.low}, unknown ${c.unknown} (threshold ${scan.severityThreshold})`,
      ...result.findings
        .slice(0, 20)
        .map(
          (f) =>
            `  ${f.severity.padEnd(8)} ${f.id} ${f.package ? `${f.package.name}@${f.package.version}` : (f.location?.path ?? '')} ${f.title}`,
        ),
      ...(result.findings.length > 20 ? [`  …and ${result.findings.length - 20} more`] : []),
      ...result.expiredIgnores.map(
        (e) => `  note: ignore entry ${e.id} expired on ${e.expires} and no longer applies`,
      ),
    ].join('\n');
    return { exitCode: result.passed ? 0 : 1, result, summary };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
