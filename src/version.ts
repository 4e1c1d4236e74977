/** Gantry's version (package.json), for `--version`, the action step header and the reports. */
import packageJson from '../package.json' with { type: 'json' };

export const VERSION: string = packageJson.version;
