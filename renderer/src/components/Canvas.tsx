/** The React Flow canvas, controlled by the document in editorStore. */
import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  useStore as useFlowStore,
  type Connection,
  type EdgeChange,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeChange,
  type Viewport,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent as ReactMouseEvent } from 'react';
import type { DlflowDocument } from '../../../main/protocol/index.ts';
import { addNodeOfType, connectWire } from '../actions/editActions.ts';
import { categoryColor } from '../model/catalog.ts';
import { checkConnection } from '../model/connections.ts';
import { moveNodes } from '../model/documentOps.ts';
import { createFlowCache, FLOW_NODE_TYPE, type FlowEdge, type FlowNode as DocFlowNode, type NodeSize } from '../model/flowConversion.ts';
import { groupBounds, groupFlowId, groupIdOfFlow, isGroupFlowId, memberMoves } from '../model/groups.ts';
import { catalogStore, useCatalogStore } from '../stores/catalogStore.ts';
import {
  commitLiveEdit,
  currentDocument,
  editDocument,
  editDocumentLive,
  editorStore,
  selectDocument,
  setSelection,
  setViewport,
  useEditorStore,
} from '../stores/editorStore.ts';
import { useDiagnosticsStore } from '../stores/diagnosticsStore.ts';
import { showToast } from '../stores/toastStore.ts';
import { openDialog } from '../stores/uiStore.ts';
import { FlowNode } from './FlowNode.tsx';
import { GROUP_NODE_TYPE, GroupFrame, type GroupFlowNode } from './GroupFrame.tsx';

type FlowNodeType = DocFlowNode | GroupFlowNode;
const isDocFlowNode = (n: FlowNodeType): n is DocFlowNode => n.type === FLOW_NODE_TYPE;

export const PALETTE_DRAG_TYPE = 'application/x-dlflow-node-type';

const nodeTypes = { [FLOW_NODE_TYPE]: FlowNode, [GROUP_NODE_TYPE]: GroupFrame };
const proOptions = { hideAttribution: true };
const fitViewOptions = { padding: 0.2, maxZoom: 1.2 };
const ZOOMED_OUT = 0.45;

export function Canvas() {
  const rf = useReactFlow<FlowNodeType, FlowEdge>();
  const doc = useEditorStore(selectDocument);
  const selectedNodes = useEditorStore((s) => s.selectedNodes);
  const selectedEdges = useEditorStore((s) => s.selectedEdges);
  const loadCount = useEditorStore((s) => s.loadCount);
  const index = useCatalogStore((s) => s.index);
  const convert = useMemo(() => createFlowCache(), []);
  const sizes = useRef(new Map<string, NodeSize>());
  const [sizesVersion, setSizesVersion] = useState(0);
  const dragBase = useRef<DlflowDocument | undefined>(undefined);
  // Zoomed far out, text is unreadable anyway: hiding it (a class, no re-render) halves paint work.
  const zoomedOut = useFlowStore((s) => s.transform[2] < ZOOMED_OUT);

  const flow = useMemo(
    () => convert(doc, index, selectedNodes, selectedEdges, sizes.current),
    // sizesVersion: the sizes map is mutated in place; the version says when.
    [convert, doc, index, selectedNodes, selectedEdges, sizesVersion],
  );
  const diagnostics = useDiagnosticsStore((s) => s.all);
  const nodes = flow.nodes;
  const [selectedGroups, setSelectedGroups] = useState<ReadonlySet<string>>(new Set());
  // Frames go first (drawn below), sized from their members' positions and measured sizes.
  const groupCache = useRef(new Map<string, GroupFlowNode>());
  const allNodes = useMemo((): FlowNodeType[] => {
    if (!doc.groups?.length) {
      groupCache.current.clear();
      return nodes;
    }
    const next = new Map<string, GroupFlowNode>();
    const frames: GroupFlowNode[] = [];
    for (const group of doc.groups) {
      const box = groupBounds(group, doc, sizes.current);
      if (!box) continue;
      const id = groupFlowId(group.id);
      const selected = selectedGroups.has(id);
      const hit = groupCache.current.get(id);
      const same =
        hit && hit.data.group === group && hit.selected === selected && hit.position.x === box.x && hit.position.y === box.y && hit.data.width === box.width && hit.data.height === box.height;
      const frame: GroupFlowNode = same
        ? hit
        : {
            id,
            type: GROUP_NODE_TYPE,
            position: { x: box.x, y: box.y },
            data: { group, width: box.width, height: box.height },
            width: box.width,
            height: box.height,
            measured: { width: box.width, height: box.height },
            selected,
            zIndex: -1,
            connectable: false,
            dragHandle: '.dl-group-header',
          };
      next.set(id, frame);
      frames.push(frame);
    }
    groupCache.current = next;
    return [...frames, ...nodes];
    // sizesVersion: member sizes are read from the mutable map.
  }, [doc, nodes, selectedGroups, sizesVersion]);
  // Wires the engine flagged (type mismatch, unknown port, …) are drawn red with the reason.
  const edges = useMemo(() => {
    const bad = new Map<string, string>();
    for (const d of diagnostics) if (d.edgeId && d.severity === 'error') bad.set(d.edgeId, d.message);
    if (bad.size === 0) return flow.edges;
    return flow.edges.map((e) => (bad.has(e.id) ? { ...e, className: 'dl-edge-invalid', label: bad.get(e.id), style: { ...e.style, stroke: 'var(--danger)' } } : e));
  }, [flow.edges, diagnostics]);

  // A newly loaded document: restore its saved viewport, or fit it once its nodes are measured.
  // Our own flow nodes carry `measured` once React Flow reported their size.
  const allMeasured = nodes.every((n) => n.measured !== undefined);
  const fittedLoad = useRef(0);
  useEffect(() => {
    if (loadCount === fittedLoad.current) return;
    const vp = editorStore.getState().history.present.viewport;
    if (vp) {
      fittedLoad.current = loadCount;
      void rf.setViewport(vp);
    } else if (allMeasured) {
      fittedLoad.current = loadCount;
      requestAnimationFrame(() => void rf.fitView(fitViewOptions));
    }
  }, [loadCount, rf, allMeasured]);

  const onNodesChange = useCallback((changes: NodeChange<FlowNodeType>[]) => {
    const moves = new Map<string, { x: number; y: number }>();
    const frameMoves = new Map<string, { to: { x: number; y: number }; from: { x: number; y: number } }>();
    let sizesChanged = false;
    let selection: Set<string> | undefined;
    let groupSelection: Set<string> | undefined;
    for (const c of changes) {
      if (c.type !== 'add' && c.type !== 'replace' && isGroupFlowId(c.id)) {
        // A frame: its position moves its members; its size follows them; its selection is local.
        if (c.type === 'position' && c.position) {
          const doc0 = currentDocument();
          const group = doc0.groups?.find((g) => g.id === groupIdOfFlow(c.id));
          const box = group && groupBounds(group, doc0, sizes.current);
          if (box) {
            if (c.dragging && !dragBase.current) dragBase.current = doc0;
            frameMoves.set(group.id, { to: c.position, from: { x: box.x, y: box.y } });
          }
        } else if (c.type === 'select') {
          groupSelection ??= new Set(selectedGroupsRef.current);
          if (c.selected) groupSelection.add(c.id);
          else groupSelection.delete(c.id);
        }
        continue;
      }
      switch (c.type) {
        case 'dimensions':
          if (c.dimensions) {
            const prev = sizes.current.get(c.id);
            if (!prev || prev.width !== c.dimensions.width || prev.height !== c.dimensions.height) {
              sizes.current.set(c.id, { width: c.dimensions.width, height: c.dimensions.height });
              sizesChanged = true;
            }
          }
          break;
        case 'position':
          if (c.position) {
            if (c.dragging && !dragBase.current) dragBase.current = currentDocument();
            moves.set(c.id, c.position);
          }
          break;
        case 'select':
          selection ??= new Set(editorStore.getState().selectedNodes);
          if (c.selected) selection.add(c.id);
          else selection.delete(c.id);
          break;
        case 'remove':
        case 'add':
        case 'replace':
          // Deletions and additions go through editActions so they are undoable.
          break;
        default: {
          const never: never = c;
          void never;
        }
      }
    }
    if (sizesChanged) setSizesVersion((v) => v + 1);
    if (groupSelection) setSelectedGroups(groupSelection);
    if (frameMoves.size > 0) for (const [id, p] of memberMoves(currentDocument(), frameMoves, new Set(moves.keys()))) moves.set(id, p);
    if (moves.size > 0) {
      // Drags are one undo step (committed on drag stop); keyboard nudges are ordinary edits.
      if (dragBase.current) editDocumentLive((d) => moveNodes(d, moves));
      else editDocument((d) => moveNodes(d, moves), 'nudge');
    }
    if (selection) setSelection(selection, editorStore.getState().selectedEdges);
  }, []);

  const selectedGroupsRef = useRef(selectedGroups);
  selectedGroupsRef.current = selectedGroups;

  const onEdgesChange = useCallback((changes: EdgeChange<FlowEdge>[]) => {
    let selection: Set<string> | undefined;
    for (const c of changes) {
      if (c.type !== 'select') continue;
      selection ??= new Set(editorStore.getState().selectedEdges);
      if (c.selected) selection.add(c.id);
      else selection.delete(c.id);
    }
    if (selection) setSelection(editorStore.getState().selectedNodes, selection);
  }, []);

  const onNodeDragStop = useCallback(() => {
    const base = dragBase.current;
    dragBase.current = undefined;
    if (base) commitLiveEdit(base);
  }, []);

  const isValidConnection = useCallback<IsValidConnection<FlowEdge>>(
    (c) => checkConnection(currentDocument(), catalogStore.getState().index, { source: c.source, sourceHandle: c.sourceHandle ?? null, target: c.target, targetHandle: c.targetHandle ?? null }).ok,
    [],
  );

  const onConnect = useCallback((c: Connection) => {
    connectWire({ source: c.source, sourceHandle: c.sourceHandle, target: c.target, targetHandle: c.targetHandle });
  }, []);

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      const from = state.fromHandle;
      if (!from?.id) return;
      if (state.toHandle && !state.isValid) {
        // Dropped on a handle that refused: say why.
        const to = state.toHandle;
        const attempt =
          from.type === 'source'
            ? { source: from.nodeId, sourceHandle: from.id, target: to.nodeId, targetHandle: to.id ?? null }
            : { source: to.nodeId, sourceHandle: to.id ?? null, target: from.nodeId, targetHandle: from.id };
        if (to.type === from.type) {
          showToast(from.type === 'source' ? 'Connect an output to an input, not to another output.' : 'Connect an input to an output, not to another input.', 'error');
          return;
        }
        const check = checkConnection(currentDocument(), catalogStore.getState().index, attempt);
        if (!check.ok) showToast(check.reason, 'error');
        return;
      }
      if (!state.toNode && !state.toHandle) {
        // Dropped on empty canvas: offer the nodes that can take this wire.
        const docNode = currentDocument().nodes.find((n) => n.id === from.nodeId);
        const schema = docNode && catalogStore.getState().index.byId.get(docNode.type);
        const port = schema && (from.type === 'source' ? schema.outputs[from.id] : schema.inputs[from.id]);
        if (!port) return;
        const point = 'changedTouches' in event ? event.changedTouches[0] : event;
        openDialog({
          kind: 'quick-add',
          request: {
            screen: { x: point.clientX, y: point.clientY },
            flow: rf.screenToFlowPosition({ x: point.clientX, y: point.clientY }),
            from: { nodeId: from.nodeId, handleId: from.id, side: from.type, portType: port.type },
          },
        });
      }
    },
    [rf],
  );

  const onMoveEnd = useCallback((_: unknown, vp: Viewport) => setViewport(vp), []);

  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(PALETTE_DRAG_TYPE)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(PALETTE_DRAG_TYPE);
      if (!type) return;
      e.preventDefault();
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNodeOfType(type, { x: p.x - 90, y: p.y - 20 });
    },
    [rf],
  );

  const onDoubleClick = useCallback(
    (e: ReactMouseEvent) => {
      const target = e.target as HTMLElement;
      if (!target.classList.contains('react-flow__pane')) return;
      openDialog({ kind: 'quick-add', request: { screen: { x: e.clientX, y: e.clientY }, flow: rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }) } });
    },
    [rf],
  );

  const onNodeContextMenu = useCallback(
    (e: ReactMouseEvent, node: FlowNodeType) => {
      e.preventDefault();
      if (!isDocFlowNode(node)) {
        // A frame: the menu for its members (group, ungroup, copy, delete...).
        setSelection(node.data.group.nodeIds);
        openDialog({ kind: 'context-menu', screen: { x: e.clientX, y: e.clientY }, flow: rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }), nodeId: node.data.group.nodeIds[0] });
        return;
      }
      // Acting on a node outside the selection acts on that node alone.
      if (!editorStore.getState().selectedNodes.has(node.id)) setSelection([node.id]);
      openDialog({ kind: 'context-menu', screen: { x: e.clientX, y: e.clientY }, flow: rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }), nodeId: node.id });
    },
    [rf],
  );

  const onPaneContextMenu = useCallback(
    (e: ReactMouseEvent | MouseEvent) => {
      e.preventDefault();
      openDialog({ kind: 'context-menu', screen: { x: e.clientX, y: e.clientY }, flow: rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }) });
    },
    [rf],
  );

  const minimapColor = useCallback((n: FlowNodeType) => {
    if (!isDocFlowNode(n)) return 'transparent';
    const schema = catalogStore.getState().index.byId.get(n.data.node.type);
    return schema ? categoryColor(schema.category) : '#666';
  }, []);

  return (
    <div className={`dl-canvas${zoomedOut ? ' zoomed-out' : ''}`} data-testid="canvas" onDragOver={onDragOver} onDrop={onDrop} onDoubleClick={onDoubleClick}>
      <ReactFlow<FlowNodeType, FlowEdge>
        nodes={allNodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStop={onNodeDragStop}
        onSelectionDragStop={onNodeDragStop}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onMoveEnd={onMoveEnd}
        onNodeContextMenu={onNodeContextMenu}
        onPaneContextMenu={onPaneContextMenu}
        deleteKeyCode={null}
        zoomOnDoubleClick={false}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Control', 'Meta']}
        minZoom={0.1}
        maxZoom={2.5}
        onlyRenderVisibleElements={nodes.length > 120}
        elevateNodesOnSelect={false}
        proOptions={proOptions}
        colorMode="dark"
        fitView
        fitViewOptions={fitViewOptions}
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1} />
        <MiniMap pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={2} />
        <Controls showInteractive={false} />
      </ReactFlow>
      {nodes.length === 0 && (
        <div className="dl-empty-hint" data-testid="empty-hint">
          Drag a node from the palette, or double-click here to add one.
          <br />
          Open a pipeline with Ctrl+O; ? lists the shortcuts.
        </div>
      )}
    </div>
  );
}
