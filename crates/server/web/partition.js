// partition.js — the replay of a day dispatched by partitions (one medical
// group each): the filter that narrows the panels and the map to one group.
// The view tags each centre, drone and lab with its group (`partition_of`);
// boxes, missions and tubes at risk go by their centre, alerts by their id.

import { t } from './i18n.js';
import { h } from './dom.js';

/** The groups a view names, sorted; none on one dispatcher's view. */
export function partitionsOf(view) {
  return [...new Set(Object.values(view?.partition_of || {}))].sort();
}

/** `view` narrowed to `group` (unchanged when no group is chosen or the view has none). */
export function filterByPartition(view, group) {
  const of = view?.partition_of;
  if (!group || !of || !partitionsOf(view).includes(group)) return view;
  const mine = (id) => of[id] === group;
  return {
    ...view,
    partition_filter: group,
    stations: (view.stations || []).filter((s) => mine(s.id)),
    labs: (view.labs || []).filter((l) => mine(l.id)),
    drones: (view.drones || []).filter((d) => mine(d.id)),
    boxes: (view.boxes || []).filter((b) => mine(b.station)),
    missions: (view.missions || []).filter((m) => mine(m.station)),
    at_risk: (view.at_risk || []).filter((r) => mine(r.station)),
    alerts: (view.alerts || []).filter((a) => String(a.id).startsWith(`${group}:`)),
  };
}

/**
 * Keeps the filter's `<select>` (inside `label`) in step with the view's groups:
 * hidden without any, "all" first; `onChange(group)` when the user picks one.
 */
export function createPartitionFilter(label, onChange) {
  const select = label.querySelector('select');
  let known = '';
  select.addEventListener('change', () => onChange(select.value || null));
  function sync(view) {
    const groups = partitionsOf(view);
    label.hidden = groups.length === 0;
    const key = groups.join(',');
    if (key === known) return;
    known = key;
    const chosen = select.value;
    select.replaceChildren(
      h('option', { value: '', text: t('replay.all_partitions') }),
      ...groups.map((g) => h('option', { value: g, text: g })),
    );
    select.value = groups.includes(chosen) ? chosen : '';
    if (select.value !== chosen) onChange(select.value || null);
  }
  function relabel() {
    const all = select.querySelector('option[value=""]');
    if (all) all.textContent = t('replay.all_partitions');
  }
  return { sync, relabel };
}
