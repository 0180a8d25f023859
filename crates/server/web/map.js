// map.js — the Leaflet map without tiles: the district's GeoJSON layers drawn
// once, and the moving things (stations' state, labs, drones, boxes, mission
// paths) updated in place from each View, keyed by id, never rebuilt.

import { t, tStatus, getLang } from './i18n.js';
import { esc, h } from './dom.js';
import { localName } from './phrases.js';

const L = window.L;

export const STATION_COLOURS = { idle: '#27ae60', pending: '#f39c12', risk: '#e74c3c' };
export const DRONE_COLOURS = {
  idle: '#1abc9c', charging: '#f1c40f', on_mission: '#2e86de',
  returning: '#8e44ad', fault: '#e74c3c', lost: '#17202a',
};
const BOX_COLOURS = { waiting: '#f5b041', assigned: '#dc7633', on_board: '#5dade2', stranded: '#c0392b' };
const CARRIER_COLOURS = { drone: '#2e86de', van: '#7d3c98' };
/** From this zoom in, every centre is drawn on its own (a district fits at 12 or so). */
const CLUSTER_UNTIL_ZOOM = 11;

/** One map in `container`; `onSelect({kind, id})` when a thing is clicked. */
export function createMap(container, { onSelect }) {
  const map = L.map(container, {
    center: [22.69, 114.04], zoom: 12, zoomSnap: 0.25, minZoom: 9, maxZoom: 18,
    attributionControl: false, preferCanvas: false,
  });
  // Panes, bottom to top, so moving things never hide the centres' clicks.
  const panes = [['areas', 350], ['routes', 410], ['boxes', 415], ['sites', 420], ['drones', 440]];
  for (const [name, z] of panes) map.createPane(name).style.zIndex = z;

  const layers = {
    areas: L.layerGroup().addTo(map),
    pads: L.layerGroup().addTo(map),
    routes: L.layerGroup().addTo(map),
    boxes: L.layerGroup().addTo(map),
    sites: L.layerGroup().addTo(map),
    // The centres, clustered when zoomed out past a district (a city's 600+
    // would hide each other); one by one from CLUSTER_UNTIL_ZOOM in.
    stations: L.markerClusterGroup({
      clusterPane: 'sites', disableClusteringAtZoom: CLUSTER_UNTIL_ZOOM,
      showCoverageOnHover: false, spiderfyOnMaxZoom: false, maxClusterRadius: 40,
    }).addTo(map),
    drones: L.layerGroup().addTo(map),
    droneLabels: L.layerGroup().addTo(map),
  };
  const stations = new Map();
  const labs = new Map();
  const drones = new Map();
  const droneLabels = new Map();
  const boxes = new Map();
  const routes = new Map();
  const trails = new Map();
  let lastTrailTime = 0;
  const subdistrictLabels = [];
  let highlighted = null;
  let districtBounds = null;

  const click = (kind, id) => (e) => {
    L.DomEvent.stopPropagation(e);
    onSelect({ kind, id });
  };

  function tooltip(layer, text, opts) {
    const html = esc(text);
    if (!layer.getTooltip()) layer.bindTooltip(html, opts);
    else if (layer._lfTip !== html) layer.setTooltipContent(html);
    layer._lfTip = html;
  }

  function setClass(layer, cls, on) {
    const el = layer.getElement && layer.getElement();
    if (el) el.classList.toggle(cls, !!on);
  }

  function addStation(id, lat, lon, props) {
    const m = L.circleMarker([lat, lon], {
      pane: 'sites', radius: 6, weight: 1.5, color: '#ffffff',
      fillColor: STATION_COLOURS.idle, fillOpacity: 0.95, className: `st-${id}`,
    });
    m.on('click', click('station', id));
    m.addTo(layers.stations);
    m._lf = { props };
    tooltip(m, localName(id, props));
    stations.set(id, m);
    return m;
  }

  function addLab(id, lat, lon, props) {
    const m = L.circleMarker([lat, lon], {
      pane: 'sites', radius: 10, weight: 4, color: '#1b4f72',
      fillColor: '#d6eaf8', fillOpacity: 1, className: `lab-${id}`,
    });
    m.on('click', click('lab', id));
    m.bindTooltip(esc(localName(id, props)), { permanent: true, direction: 'right', offset: [10, 0], className: 'lab-label' });
    m.addTo(layers.sites);
    m._lf = { props };
    labs.set(id, m);
    return m;
  }

  /** Draws the static layers once, from `GET /api/v1/map`. */
  function loadStatic(geo) {
    const area = (fc, style) => fc && L.geoJSON(fc, { pane: 'areas', interactive: false, style }).addTo(layers.areas);
    const district = area(geo.district, { color: '#2c3e50', weight: 2.5, fillColor: '#ffffff', fillOpacity: 0.7 });
    const subs = area(geo.subdistricts, { color: '#95a5a6', weight: 1, dashArray: '4 4', fill: false });
    area(geo.nofly, { color: '#c0392b', weight: 1.5, fillColor: '#e74c3c', fillOpacity: 0.35, className: 'nofly' });
    if (subs) {
      subs.eachLayer((l) => {
        const p = l.feature.properties || {};
        const label = L.tooltip({ permanent: true, direction: 'center', className: 'subd-label', interactive: false })
          .setLatLng(l.getBounds().getCenter());
        label._lfNames = p;
        label.setContent(esc(getLang() === 'zh' ? (p.name_zh || p.name) : (p.name || p.name_zh)));
        label.addTo(map);
        subdistrictLabels.push(label);
      });
    }
    for (const f of geo.pads?.features || []) {
      const [lon, lat] = f.geometry.coordinates;
      L.circleMarker([lat, lon], {
        pane: 'sites', radius: 2.5, weight: 0, fillColor: '#7f8c8d', fillOpacity: 0.8,
        interactive: false, className: 'pad',
      }).addTo(layers.pads);
    }
    for (const f of geo.stations?.features || []) {
      const [lon, lat] = f.geometry.coordinates;
      const p = f.properties || {};
      if (!stations.has(p.id)) addStation(p.id, lat, lon, p);
    }
    for (const f of geo.labs?.features || []) {
      const [lon, lat] = f.geometry.coordinates;
      const p = f.properties || {};
      if (!labs.has(p.id)) addLab(p.id, lat, lon, p);
    }
    if (district) {
      districtBounds = district.getBounds();
      if (districtBounds.isValid()) map.fitBounds(districtBounds, { padding: [10, 10] });
    }
  }

  function renderStations(view) {
    // Narrowed to one medical group: the other groups' centres leave the map.
    const shown = new Set((view.stations || []).map((s) => s.id));
    for (const [id, m] of stations) {
      const wanted = !view.partition_filter || shown.has(id);
      if (wanted !== layers.stations.hasLayer(m)) {
        if (wanted) layers.stations.addLayer(m);
        else layers.stations.removeLayer(m);
      }
    }
    for (const s of view.stations || []) {
      const m = stations.get(s.id) || (s.lat != null && addStation(s.id, s.lat, s.lon, s));
      if (!m) continue;
      const risk = (s.at_risk || 0) > 0;
      const pending = (s.pending || 0) > 0;
      const fill = risk ? STATION_COLOURS.risk : pending ? STATION_COLOURS.pending : STATION_COLOURS.idle;
      if (m.options.fillColor !== fill) m.setStyle({ fillColor: fill });
      const r = risk ? 8 : 6;
      if (m.getRadius() !== r) m.setRadius(r);
      setClass(m, 'is-pending', pending);
      setClass(m, 'is-risk', risk);
      tooltip(m, `${localName(s.id, m._lf.props, s)} · ${t('details.pending')} ${s.pending ?? 0}` +
        (risk ? ` · ${t('details.at_risk')} ${s.at_risk}` : ''));
    }
  }

  function renderLabs(view) {
    for (const l of view.labs || []) {
      const m = labs.get(l.id) || (l.lat != null && addLab(l.id, l.lat, l.lon, l));
      if (!m) continue;
      const style = l.closed ? { color: '#566573', fillColor: '#d5d8dc' }
        : l.unavailable ? { color: '#922b21', fillColor: '#f5b7b1' }
          : { color: '#1b4f72', fillColor: '#d6eaf8' };
      if (m.options.color !== style.color) m.setStyle(style);
      setClass(m, 'is-unavailable', l.unavailable);
      setClass(m, 'is-closed', l.closed);
      const queued = Object.values(l.queue || {}).reduce((a, n) => a + n, 0);
      tooltip(m, `${localName(l.id, m._lf.props, l)} · ${t('labs.queue')} ${queued}`);
    }
  }

  /** Creates, moves and removes markers of one kind to match `items`. */
  function syncMarkers(store, group, items, make, update) {
    const seen = new Set();
    for (const it of items) {
      if (it.lat == null || it.lon == null) continue;
      seen.add(it.id);
      let m = store.get(it.id);
      if (!m) {
        m = make(it);
        m.addTo(group);
        store.set(it.id, m);
      } else {
        const ll = m.getLatLng();
        if (ll.lat !== it.lat || ll.lng !== it.lon) m.setLatLng([it.lat, it.lon]);
      }
      update(m, it);
    }
    for (const [id, m] of store) {
      if (!seen.has(id)) {
        group.removeLayer(m);
        store.delete(id);
      }
    }
  }

  function renderDrones(view) {
    syncMarkers(drones, layers.drones, view.drones || [], (d) => {
      const m = L.circleMarker([d.lat, d.lon], {
        pane: 'drones', radius: 5, weight: 2, color: '#17202a',
        fillColor: DRONE_COLOURS[d.status] || '#bdc3c7', fillOpacity: 1, className: `dr-${d.id}`,
      });
      m.on('click', click('drone', d.id));
      return m;
    }, (m, d) => {
      const fill = DRONE_COLOURS[d.status] || '#bdc3c7';
      const dash = d.paused || d.link_lost ? '2 2' : null;
      if (m.options.fillColor !== fill || m.options.dashArray !== dash) m.setStyle({ fillColor: fill, dashArray: dash });
      const bat = d.battery_pct == null ? '—' : `${Math.round(d.battery_pct)}%`;
      tooltip(m, `${d.id} · ${bat} · ${tStatus('status', d.status)}`);
    });
    // Each drone's id beside it, always shown (no hover on a tablet).
    syncMarkers(droneLabels, layers.droneLabels, view.drones || [], (d) => L.marker([d.lat, d.lon], {
      pane: 'drones', interactive: false, keyboard: false,
      icon: L.divIcon({ className: 'drone-label', html: esc(d.id), iconSize: null, iconAnchor: [-7, 7] }),
    }), () => {});
  }

  function renderBoxes(view) {
    const live = (view.boxes || []).filter((b) => b.status !== 'delivered');
    syncMarkers(boxes, layers.boxes, live, (b) => {
      const m = L.circleMarker([b.lat, b.lon], {
        pane: 'boxes', radius: 3.5, weight: 1, color: '#4d2600',
        fillColor: BOX_COLOURS[b.status] || '#f5b041', fillOpacity: 1, className: `bx-${b.id}`,
      });
      m.on('click', click('box', b.id));
      return m;
    }, (m, b) => {
      const fill = BOX_COLOURS[b.status] || '#f5b041';
      if (m.options.fillColor !== fill) m.setStyle({ fillColor: fill });
      const temp = b.temp_c == null ? '' : ` · ${b.temp_c.toFixed(1)} °C`;
      tooltip(m, `${b.id} · ${tStatus('status', b.status)} · ${b.tubes ?? 0}${temp}`);
    });
  }

  function routeStyle(ms) {
    const hi = highlighted === ms.id;
    return {
      color: CARRIER_COLOURS[ms.carrier] || '#2e86de',
      weight: hi ? 5 : 2.5,
      opacity: hi ? 1 : 0.75,
      dashArray: ms.column === 'assigned' ? '6 6' : null,
    };
  }

  function renderRoutes(view) {
    const seen = new Set();
    for (const ms of view.missions || []) {
      if (!(ms.column === 'assigned' || ms.column === 'in_flight')) continue;
      const path = (ms.path || []).filter((p) => Array.isArray(p) && p.length >= 2);
      if (path.length < 2) continue;
      seen.add(ms.id);
      let line = routes.get(ms.id);
      const sig = JSON.stringify(path);
      if (!line) {
        line = L.polyline(path, { pane: 'routes', className: `ms-${ms.id}`, ...routeStyle(ms) });
        line.on('click', click('mission', ms.id));
        line.addTo(layers.routes);
        routes.set(ms.id, line);
      } else if (line._lfSig !== sig) {
        line.setLatLngs(path);
      }
      line._lfSig = sig;
      line._lfMission = ms;
      line.setStyle(routeStyle(ms));
      if (highlighted === ms.id) line.bringToFront();
    }
    for (const [id, line] of routes) {
      if (!seen.has(id)) {
        layers.routes.removeLayer(line);
        routes.delete(id);
      }
    }
  }

  /** The path each airborne drone has flown so far (kept while it flies, last 240 fixes). */
  function renderTrails(view) {
    // A jump in time (the replay slider) starts every trail afresh.
    const now = Date.parse(view.now || '') || 0;
    if (Math.abs(now - lastTrailTime) > 5 * 60_000) {
      for (const t of trails.values()) layers.routes.removeLayer(t);
      trails.clear();
    }
    lastTrailTime = now;
    for (const d of view.drones || []) {
      const flying = d.status === 'on_mission' || d.status === 'returning';
      let trail = trails.get(d.id);
      if (!flying) {
        if (trail) {
          layers.routes.removeLayer(trail);
          trails.delete(d.id);
        }
        continue;
      }
      const here = L.latLng(d.lat, d.lon);
      if (!trail) {
        trail = L.polyline([here], {
          pane: 'routes', color: '#566573', weight: 2, opacity: 0.7, className: `tr-${d.id}`,
        }).addTo(layers.routes);
        trails.set(d.id, trail);
        continue;
      }
      const points = trail.getLatLngs();
      if (!points[points.length - 1].equals(here)) {
        points.push(here);
        trail.setLatLngs(points.slice(-240));
      }
    }
  }

  function render(view) {
    renderStations(view);
    renderLabs(view);
    renderRoutes(view);
    renderTrails(view);
    renderBoxes(view);
    renderDrones(view);
    container.dataset.viewMode = view.mode || 'live';
    container.dataset.viewNow = view.now || '';
  }

  /** Draws one mission's path thicker (null: none). */
  function highlight(missionId) {
    highlighted = missionId || null;
    for (const line of routes.values()) {
      line.setStyle(routeStyle(line._lfMission));
      if (highlighted === line._lfMission.id) line.bringToFront();
    }
  }

  /** Removes everything that moves (entering replay before its first frame). */
  function clearDynamic() {
    for (const [store, group] of [[drones, layers.drones], [droneLabels, layers.droneLabels], [boxes, layers.boxes], [routes, layers.routes], [trails, layers.routes]]) {
      for (const m of store.values()) group.removeLayer(m);
      store.clear();
    }
  }

  function panTo(kind, id) {
    const store = { station: stations, lab: labs, drone: drones, box: boxes }[kind];
    const m = store && store.get(id);
    if (m && !map.getBounds().contains(m.getLatLng())) map.panTo(m.getLatLng());
  }

  /** Centres the map on a thing (zooming in to at least 14); false when it is not drawn. */
  function focus(kind, id) {
    const store = { station: stations, lab: labs, drone: drones, box: boxes }[kind];
    const m = store && store.get(id);
    if (!m) return false;
    map.setView(m.getLatLng(), Math.max(map.getZoom(), 14));
    return true;
  }

  function relabel() {
    for (const label of subdistrictLabels) {
      const p = label._lfNames;
      label.setContent(esc(getLang() === 'zh' ? (p.name_zh || p.name) : (p.name || p.name_zh)));
    }
    legend.refresh();
  }

  const legend = makeLegend(map);
  new ResizeObserver(() => map.invalidateSize({ pan: false })).observe(container);

  return { map, loadStatic, render, highlight, clearDynamic, panTo, focus, relabel };
}

/** A small always-visible legend (no hover needed on a tablet). */
function makeLegend(map) {
  const ctl = L.control({ position: 'bottomleft' });
  let box;
  const dot = (colour, label, cls = '') => h('span', { class: `lg-item ${cls}` },
    h('i', { class: 'lg-dot', style: `background:${colour}` }), label);
  function fill() {
    box.replaceChildren(
      h('div', { class: 'lg-row' },
        dot(STATION_COLOURS.idle, t('legend.idle')),
        dot(STATION_COLOURS.pending, t('legend.pending')),
        dot(STATION_COLOURS.risk, t('legend.risk')),
        dot('#d6eaf8', t('details.lab'), 'lg-lab')),
      h('div', { class: 'lg-row' },
        ...['idle', 'charging', 'on_mission', 'returning', 'fault'].map((s) =>
          dot(DRONE_COLOURS[s], tStatus('status', s), 'lg-drone'))),
    );
  }
  ctl.onAdd = () => {
    box = h('div', { class: 'legend' });
    L.DomEvent.disableClickPropagation(box);
    fill();
    return box;
  };
  ctl.addTo(map);
  ctl.refresh = fill;
  return ctl;
}
