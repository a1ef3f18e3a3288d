/** User-facing messages shared by commands. */
export function unsupportedOsMessage(platform: string): string {
  return (
    `ntstat: live statistics need the macOS kernel (this is ${platform}).\n` +
    `  Try the simulated kernel:   ntstat --simulate   (add --macos 14 or --scenario browser-burst)\n` +
    `  Or replay a recording:      ntstat replay FILE --format libntstat --xnu VERSION\n`
  );
}
