/** Entry point of the headless `spacetime-probe` CLI (placeholder until the core lands). */
function main(argv: string[]): number {
  if (argv.includes('--version')) {
    console.log('0.1.0');
    return 0;
  }
  console.error('usage: spacetime-probe <command> [options]');
  return 2;
}

process.exitCode = main(process.argv.slice(2));
