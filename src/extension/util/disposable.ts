/**
 * Disposable helpers in the style of VS Code's own `lifecycle.ts`: an owner registers what it creates as soon as
 * it creates it, and disposing the owner releases everything, continuing past failures.
 */
import type * as vscode from 'vscode';

export interface IDisposable {
  dispose(): void;
}

/** Disposes every item even if some throw; rethrows the first failure (or an AggregateError) afterwards. */
export function disposeAll(items: Iterable<IDisposable>): void {
  const errors: unknown[] = [];
  for (const item of items) {
    try {
      item.dispose();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, 'Several disposables failed to dispose');
}

export class DisposableStore implements IDisposable {
  private readonly items = new Set<IDisposable>();
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  add<T extends IDisposable>(item: T): T {
    if (this.disposed) {
      // Registering after disposal would leak: release it right away instead.
      item.dispose();
      return item;
    }
    this.items.add(item);
    return item;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const items = [...this.items];
    this.items.clear();
    disposeAll(items.reverse());
  }
}

/** Base class for owners (panels, providers, services): `_register` ties a resource's life to this object. */
export abstract class Disposable implements IDisposable {
  private readonly _disposables = new DisposableStore();

  protected _register<T extends IDisposable>(item: T): T {
    return this._disposables.add(item);
  }

  dispose(): void {
    this._disposables.dispose();
  }
}

/** Holds at most one disposable; setting a new value disposes the previous one (e.g. the running probe). */
export class MutableDisposable<T extends IDisposable> implements IDisposable {
  private current: T | undefined;
  private disposed = false;

  get value(): T | undefined {
    return this.current;
  }

  set value(next: T | undefined) {
    if (this.disposed) {
      next?.dispose();
      return;
    }
    if (next === this.current) return;
    const previous = this.current;
    this.current = next;
    previous?.dispose();
  }

  /** Forget the current value without disposing it (its owner finished normally). */
  clearIfCurrent(value: T): void {
    if (this.current === value) this.current = undefined;
  }

  dispose(): void {
    this.disposed = true;
    const previous = this.current;
    this.current = undefined;
    previous?.dispose();
  }
}

/** Adapts a vscode.Disposable-returning API without importing vscode at run time in this file. */
export function toDisposable(dispose: () => void): IDisposable & vscode.Disposable {
  return { dispose };
}
