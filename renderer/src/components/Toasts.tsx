/** The toast stack. */
import { dismissToast, useToastStore } from '../stores/toastStore.ts';

export function Toasts() {
  const toasts = useToastStore((s) => s.toasts);
  return (
    <div className="dl-toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`dl-toast ${t.kind}`} data-testid="toast" role={t.kind === 'error' ? 'alert' : 'status'} onClick={() => dismissToast(t.id)}>
          {t.message}
        </div>
      ))}
    </div>
  );
}
