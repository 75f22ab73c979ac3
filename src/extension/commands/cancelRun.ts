/** "Cancel Run": stops the probe in progress (same as the notification's Cancel button). */
import type { Command } from './command';
import type { Services } from '../services';

export class CancelRunCommand implements Command {
  readonly id = 'spacetimeProbe.cancelRun';
  constructor(private readonly services: Services) {}

  execute(): boolean {
    const running = this.services.runner.isRunning;
    this.services.runner.cancel();
    return running;
  }
}
