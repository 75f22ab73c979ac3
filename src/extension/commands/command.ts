/** A command is an id plus `execute`; errors are caught here, at the edge: logged, then shown. */
import * as vscode from 'vscode';
import type { Services } from '../services';

export interface Command {
  readonly id: string;
  execute(...args: unknown[]): unknown;
}

export function registerCommand(services: Services, command: Command): vscode.Disposable {
  return vscode.commands.registerCommand(command.id, async (...args: unknown[]) => {
    try {
      return await command.execute(...args);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      services.log.error(`${command.id} failed: ${error instanceof Error ? error.stack ?? message : message}`);
      void vscode.window.showErrorMessage(`Spacetime Probe: ${message}`);
      return undefined;
    }
  });
}
