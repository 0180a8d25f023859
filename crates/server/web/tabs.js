// tabs.js — adds a side tab and its panel from code (the fleet table, the
// boxes waiting to fly), so index.html keeps only the panels every build had.

import { h } from './dom.js';
import { t } from './i18n.js';

/**
 * Appends a tab button (label from `labelKey`, an optional count badge named
 * `name`) and an empty hidden panel; returns the panel.
 */
export function addTab(name, labelKey) {
  const nav = document.querySelector('.side .tabs');
  const panels = document.querySelector('.side .panels');
  nav.append(h('button', { type: 'button', role: 'tab', class: 'tab', data: { tab: name }, testid: `tab-${name}` },
    h('span', { data: { i18n: labelKey }, text: t(labelKey) }), ' ', h('i', { class: 'count', data: { count: name } })));
  const panel = h('section', { class: 'panel', data: { panel: name }, hidden: true });
  panels.append(panel);
  return panel;
}
