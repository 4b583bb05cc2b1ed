/** Every node type by category, with search; drag onto the canvas or double-click to add. */
import { useReactFlow } from '@xyflow/react';
import { useMemo, useState } from 'react';
import type { NodeSchema } from '../../../main/protocol/index.ts';
import { addNodeOfType } from '../actions/editActions.ts';
import { categoryColor, matchesSearch } from '../model/catalog.ts';
import { useCatalogStore } from '../stores/catalogStore.ts';
import { PALETTE_DRAG_TYPE } from './Canvas.tsx';

export function firstLine(markdown: string): string {
  return (markdown.split('\n').find((l) => l.trim() !== '') ?? '').replace(/[*_`#]/g, '').trim();
}

export function Palette() {
  const index = useCatalogStore((s) => s.index);
  const loaded = useCatalogStore((s) => s.loaded);
  const error = useCatalogStore((s) => s.error);
  const [query, setQuery] = useState('');
  const rf = useReactFlow();
  const groups = useMemo(() => {
    const out = new Map<string, NodeSchema[]>();
    for (const n of index.catalog.nodes) {
      if (!matchesSearch(n, query)) continue;
      const list = out.get(n.category) ?? [];
      list.push(n);
      out.set(n.category, list);
    }
    return [...out.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([c, list]) => [c, list.sort((a, b) => a.name.localeCompare(b.name))] as const);
  }, [index, query]);

  const addAtCentre = (type: string) => {
    const el = document.querySelector('[data-testid="canvas"]')?.getBoundingClientRect();
    const p = el ? rf.screenToFlowPosition({ x: el.left + el.width / 2, y: el.top + el.height / 2 }) : { x: 0, y: 0 };
    addNodeOfType(type, { x: p.x - 90 + Math.random() * 40, y: p.y - 40 + Math.random() * 40 });
  };

  return (
    <aside className="dl-palette" data-testid="palette">
      <input
        className="dl-input dl-search"
        data-testid="palette-search"
        placeholder="Search nodes…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && groups.length > 0) addAtCentre(groups[0][1][0].id);
          if (e.key === 'Escape') setQuery('');
        }}
      />
      {!loaded && !error && <div className="dl-muted">Loading nodes…</div>}
      {error && <div className="dl-error-text">Could not load nodes: {error}</div>}
      {loaded && groups.length === 0 && <div className="dl-muted">No node matches “{query}”.</div>}
      <div className="dl-palette-list">
        {groups.map(([category, list]) => (
          <section key={category} className="dl-palette-group">
            <h3 style={{ borderColor: categoryColor(category) }}>{category}</h3>
            {list.map((n) => (
              <div
                key={n.id}
                className="dl-palette-item"
                data-testid={`palette-item-${n.id}`}
                draggable
                title={`${n.name} (${n.id})\n\n${n.description}\n\nDrag onto the canvas or double-click to add.`}
                style={{ borderLeftColor: categoryColor(category) }}
                onDragStart={(e) => {
                  e.dataTransfer.setData(PALETTE_DRAG_TYPE, n.id);
                  e.dataTransfer.effectAllowed = 'copy';
                }}
                onDoubleClick={() => addAtCentre(n.id)}
              >
                <div className="dl-palette-name">{n.name}</div>
                <div className="dl-palette-desc">{firstLine(n.description)}</div>
              </div>
            ))}
          </section>
        ))}
      </div>
    </aside>
  );
}
