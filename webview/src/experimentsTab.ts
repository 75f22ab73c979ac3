/**
 * DOM of the results panel's Experiments tab: one section per experiment file of the run (title, a summary of
 * parameters and headline numbers, then its charts). Text goes in through textContent only; the charts are
 * embedded by main.ts, which owns vega-embed and the views.
 */
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import type { ExperimentSection } from './experimentCharts';

export interface PendingChart {
  readonly container: HTMLElement;
  readonly spec: TopLevelSpec;
}

function node<K extends keyof HTMLElementTagNameMap>(tag: K, className: string | undefined, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Fill `panel` with the sections and return the chart containers, in order, for main.ts to embed. */
export function renderExperimentSections(panel: HTMLElement, sections: readonly ExperimentSection[]): PendingChart[] {
  const children: HTMLElement[] = [
    node('p', 'caption', 'Robustness experiments on this run\u2019s dataset and model (Spacetime Probe: Run Experiment\u2026; ' +
      'spacetime-probe experiment on the command line). Each section is read from experiment_<name>.json in the run folder, ' +
      'which also records every parameter.'),
  ];
  const charts: PendingChart[] = [];
  for (const section of sections) {
    const box = node('section', 'experiment');
    box.dataset.experiment = section.experiment;
    box.appendChild(node('h2', undefined, section.title));
    box.appendChild(node('p', 'caption', section.summary));
    for (const chart of section.charts) {
      box.appendChild(node('p', 'note', chart.caption));
      const container = node('div', 'chart');
      container.id = `chart-${chart.id}`;
      box.appendChild(container);
      charts.push({ container, spec: chart.spec });
    }
    children.push(box);
  }
  panel.replaceChildren(...children);
  return charts;
}
