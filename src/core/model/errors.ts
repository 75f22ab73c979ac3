/**
 * Errors the model layer raises for problems with the user's model or input (as opposed to bugs): the CLI maps
 * them to exit code 2 without a stack trace, the extension shows the message and details.
 */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  /**
   * @param summary One line naming the model and what went wrong.
   * @param details Further lines: what was found, what was expected, how to fix it.
   */
  constructor(readonly summary: string, readonly details: readonly string[] = []) {
    // The message carries the details too, so a plain `error.message` print is already complete.
    super(details.length > 0 ? `${summary}\n  ${details.join('\n  ')}` : summary);
  }
}
