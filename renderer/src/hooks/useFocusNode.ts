/** Selects a node and pans the canvas to it (used by the run log and diagnostics links). */
import { useReactFlow } from '@xyflow/react';
import { useCallback } from 'react';
import { setSelection } from '../stores/editorStore.ts';
import { setUi } from '../stores/uiStore.ts';

export function useFocusNode(): (nodeId: string) => void {
  const rf = useReactFlow();
  return useCallback(
    (nodeId: string) => {
      setUi({ centre: 'canvas' });
      setSelection([nodeId]);
      const n = rf.getInternalNode(nodeId);
      if (!n) return;
      const w = n.measured.width ?? 180;
      const h = n.measured.height ?? 80;
      void rf.setCenter(n.internals.positionAbsolute.x + w / 2, n.internals.positionAbsolute.y + h / 2, { zoom: Math.max(rf.getZoom(), 0.8), duration: 250 });
    },
    [rf],
  );
}
