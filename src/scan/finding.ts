/** Drops undefined properties, so findings compare and serialise cleanly (no `"fixedVersion": undefined`). */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** A path inside the image as scanners disagree on it (`/app/x`, `app/x`), normalised to `app/x`. */
export function imagePath(path: string): string {
  return path.replace(/^\/+/, '');
}
