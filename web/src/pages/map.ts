/**
 * Carte: Leaflet (≈ 40 KB gzipped, SVG/DOM rendering) rather than MapLibre GL (≈ 230 KB, WebGL):
 * raster tiles are all we need, SVG markers work without a GPU and without tiles, and they stay
 * real DOM elements that tests and assistive tech can inspect. Loaded only on this page.
 *
 * Clustering is a pixel grid per zoom level (cells of CELL_PX), computed once per zoom. Problem
 * stations (locked, partly locked) are never clustered: seeing them is the point of the map.
 */
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { categoryOf, CATEGORIES, CATEGORY_COLOURS, type Category, type Station } from '../api.js';
import { onStations, stations, type StationsState } from '../data.js';
import { h } from '../dom.js';
import { fmtNumber, t } from '../i18n.js';
import type { MessageKey } from '../i18n/fr.js';
import type { Page } from '../router.js';
import { badge, errorBox, heading, sinceText, stationHref } from '../ui.js';

const CELL_PX = 56;
const NO_CLUSTER_ZOOM = 15;
const ALWAYS_SHOWN: ReadonlySet<Category> = new Set(['locked', 'partial']);

function popupContent(s: Station, nowSec: number): HTMLElement {
  return h(
    'div',
    { class: 'popup' },
    h('strong', {}, s.name),
    h('div', { class: 'muted' }, s.code),
    h('div', {}, badge(s.state)),
    s.since !== null ? h('div', { class: 'muted' }, sinceText(s, nowSec)) : null,
    h(
      'div',
      {},
      `${t('col.mechanical')} : ${fmtNumber(s.bikes.mechanical)} · ${t('col.electric')} : ${fmtNumber(s.bikes.electric)} · ${t('col.docks')} : ${fmtNumber(s.docks)}`,
    ),
    h('a', { href: stationHref(s.code) }, t('map.open')),
  );
}

export const mapPage: Page = async ({ main, config, query }) => {
  main.classList.add('wide');
  main.append(heading(t('map.title')));
  const legend = h('ul', { class: 'legend', 'aria-label': t('map.legend') });
  const notice = h('p', { class: 'notice', role: 'status' });
  const locate = h('button', { type: 'button', class: 'button' }, t('map.locate'));
  const mapEl = h('div', { class: 'map', id: 'map' });
  main.append(
    h(
      'div',
      { class: 'map-bar' },
      legend,
      h('div', { class: 'map-actions' }, locate, h('a', { href: '/stations' }, t('map.list'))),
    ),
    notice,
    mapEl,
  );
  let st: StationsState;
  try {
    st = await stations();
  } catch (err) {
    main.append(errorBox(err));
    return () => main.classList.remove('wide');
  }

  const map = L.map(mapEl, { zoomControl: true, attributionControl: true, minZoom: 3, maxZoom: 19 });
  if (config.tileUrl) {
    let warned = false;
    L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 })
      .on('tileerror', () => {
        // No network: the plain background stays, the markers are all still there.
        if (!warned) notice.textContent = t('map.noTiles');
        warned = true;
      })
      .addTo(map);
  }

  const layer = L.layerGroup().addTo(map);
  // Problem stations get their own pane above the cluster icons, so nothing ever hides them.
  map.createPane('problems').style.zIndex = '650';
  const problemRenderer = L.svg({ pane: 'problems' });
  const markers = new Map<string, { marker: L.CircleMarker; cat: Category }>();

  const drawLegend = (): void => {
    const counts: Record<Category, number> = { ok: 0, locked: 0, partial: 0, closed: 0, learning: 0 };
    for (const s of st.list) counts[categoryOf(s.state)]++;
    legend.replaceChildren(
      ...CATEGORIES.map((c) =>
        h(
          'li',
          {},
          h('span', { class: `dot cat-${c}`, 'aria-hidden': 'true' }),
          `${t(`cat.${c}` as MessageKey)} (${fmtNumber(counts[c])})`,
        ),
      ),
    );
  };

  const singleton = (s: Station): void => {
    const cat = categoryOf(s.state);
    const problem = ALWAYS_SHOWN.has(cat);
    const m = L.circleMarker([s.lat, s.lon], {
      radius: problem ? 9 : 7,
      color: '#ffffff',
      weight: 1.5,
      fillColor: CATEGORY_COLOURS[cat],
      fillOpacity: 0.95,
      className: `st cat-${cat}`,
      ...(problem ? { pane: 'problems', renderer: problemRenderer } : {}),
    });
    m.bindPopup(() => popupContent(s, st.timeSec));
    m.addTo(layer);
    const el = m.getElement();
    el?.setAttribute('data-code', s.code);
    el?.setAttribute('data-state', cat);
    markers.set(s.code, { marker: m, cat });
  };

  const draw = (): void => {
    layer.clearLayers();
    markers.clear();
    const zoom = map.getZoom();
    const problems: Station[] = [];
    const cells = new Map<string, Station[]>();
    for (const s of st.list) {
      if (ALWAYS_SHOWN.has(categoryOf(s.state))) {
        problems.push(s);
        continue;
      }
      if (zoom >= NO_CLUSTER_ZOOM) {
        singleton(s);
        continue;
      }
      const p = map.project([s.lat, s.lon], zoom);
      const key = `${Math.floor(p.x / CELL_PX)}:${Math.floor(p.y / CELL_PX)}`;
      const cell = cells.get(key);
      if (cell) cell.push(s);
      else cells.set(key, [s]);
    }
    for (const members of cells.values()) {
      if (members.length === 1) {
        singleton(members[0]!);
        continue;
      }
      let lat = 0;
      let lon = 0;
      let ok = 0;
      for (const m of members) {
        lat += m.lat;
        lon += m.lon;
        if (m.state === 'ok') ok++;
      }
      const size = members.length < 10 ? 32 : members.length < 100 ? 38 : 44;
      const bounds = L.latLngBounds(members.map((m) => [m.lat, m.lon] as [number, number]));
      L.marker([lat / members.length, lon / members.length], {
        icon: L.divIcon({
          // Green when (nearly) all work; grey when closed / learning stations weigh.
          className: `cluster ${ok >= 0.9 * members.length ? 'cluster-ok' : 'cluster-mixed'}`,
          html: `<span>${members.length}</span>`,
          iconSize: [size, size],
        }),
        title: t('map.cluster', { n: members.length }),
        alt: t('map.cluster', { n: members.length }),
        keyboard: true,
      })
        .on('click', () => map.fitBounds(bounds.pad(0.1), { maxZoom: NO_CLUSTER_ZOOM }))
        .addTo(layer);
    }
    // Last, so they are drawn on top.
    for (const s of problems) singleton(s);
    drawLegend();
  };

  const focusCode = query.get('station');
  const focus = focusCode ? st.byCode.get(focusCode) : undefined;
  if (focus) map.setView([focus.lat, focus.lon], 17);
  else if (st.list.length > 0)
    map.fitBounds(L.latLngBounds(st.list.map((s) => [s.lat, s.lon] as [number, number])).pad(0.02));
  else map.setView([48.8566, 2.3522], 12);
  draw();
  performance.mark('dockwatch:markers-drawn');
  mapEl.setAttribute('data-markers', String(markers.size));
  if (focus) markers.get(focus.code)?.marker.openPopup();
  map.on('zoomend', draw);

  locate.addEventListener('click', () => {
    if (!('geolocation' in navigator)) {
      notice.textContent = t('map.locateFailed');
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const here: [number, number] = [pos.coords.latitude, pos.coords.longitude];
        L.circleMarker(here, {
          radius: 8,
          color: '#1565c0',
          weight: 3,
          fillColor: '#90caf9',
          fillOpacity: 0.9,
          className: 'me',
        }).addTo(map);
        map.setView(here, 16);
      },
      () => {
        notice.textContent = t('map.locateFailed');
      },
      { enableHighAccuracy: true, timeout: 10_000 },
    );
  });

  const off = onStations((changed) => {
    let redraw = false;
    for (const s of changed) {
      const cat = categoryOf(s.state);
      const m = markers.get(s.code);
      if (!m) {
        // Clustered before; becomes a problem station → must appear on its own.
        if (ALWAYS_SHOWN.has(cat)) redraw = true;
        continue;
      }
      if (m.cat === cat) continue;
      if (ALWAYS_SHOWN.has(cat) !== ALWAYS_SHOWN.has(m.cat)) {
        redraw = true;
        continue;
      }
      m.marker.setStyle({ fillColor: CATEGORY_COLOURS[cat] });
      const el = m.marker.getElement();
      el?.classList.remove(`cat-${m.cat}`);
      el?.classList.add(`cat-${cat}`);
      el?.setAttribute('data-state', cat);
      m.cat = cat;
    }
    if (redraw) draw();
    else drawLegend();
  });

  return () => {
    off();
    map.remove();
    main.classList.remove('wide');
  };
};
