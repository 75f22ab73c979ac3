/**
 * @file The slice of playwright-core's API the driver uses, typed structurally.
 *
 * playwright-core is installed by scripts/setup-test-env.sh into a cache outside the repository (it is a test
 * tool, not a project dependency), so its own type declarations are not visible to `tsc -p .`. These interfaces
 * describe only what we call; `loadPlaywright` requires the cached copy by absolute path.
 */

export interface LaunchOptions {
  readonly executablePath: string;
  readonly headless: boolean;
  readonly args: readonly string[];
  readonly timeout?: number;
}

export interface ChromiumType {
  launch(options: LaunchOptions): Promise<Browser>;
}

export interface Browser {
  newContext(options: { readonly viewport: { readonly width: number; readonly height: number } }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export interface BrowserContext {
  newPage(): Promise<Page>;
}

export interface Keyboard {
  press(key: string): Promise<void>;
  type(text: string, options?: { readonly delay?: number }): Promise<void>;
}

export interface ElementHandle {
  getAttribute(name: string): Promise<string | null>;
  isVisible(): Promise<boolean>;
  screenshot(options: { readonly path: string }): Promise<Buffer>;
}

export interface Frame {
  url(): string;
  parentFrame(): Frame | null;
  frameElement(): Promise<ElementHandle>;
  evaluate<R>(pageFunction: () => R): Promise<R>;
  evaluate<R, A>(pageFunction: (argument: A) => R, argument: A): Promise<R>;
}

export interface Locator {
  first(): Locator;
  filter(options: { readonly hasText: string }): Locator;
  click(options?: { readonly timeout?: number }): Promise<void>;
  waitFor(options: { readonly state?: 'attached' | 'visible'; readonly timeout?: number }): Promise<void>;
}

export interface Page {
  exposeFunction(name: string, callback: (first: unknown, second: unknown) => unknown): Promise<void>;
  goto(url: string, options?: { readonly timeout?: number }): Promise<unknown>;
  waitForSelector(selector: string, options?: { readonly timeout?: number }): Promise<unknown>;
  waitForTimeout(milliseconds: number): Promise<void>;
  locator(selector: string): Locator;
  frames(): Frame[];
  mainFrame(): Frame;
  keyboard: Keyboard;
  mouse: { move(x: number, y: number): Promise<void> };
  screenshot(options: { readonly path: string; readonly fullPage?: boolean }): Promise<Buffer>;
  on(event: 'pageerror', listener: (error: Error) => void): void;
}

export interface PlaywrightCore {
  readonly chromium: ChromiumType;
}

/** Require playwright-core from the directory the setup script printed (SPACETIME_PLAYWRIGHT_CORE). */
export function loadPlaywright(directory: string): PlaywrightCore {
  // A real require of the cached package: the path is only known at run time.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded: unknown = require(directory);
  if (typeof loaded !== 'object' || loaded === null || !('chromium' in loaded)) {
    throw new Error(`${directory} does not look like playwright-core (no 'chromium' export)`);
  }
  return loaded as PlaywrightCore;
}
