'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';

/** Sends DELETE /api/rooms/:id (guarded by @app/permissions/next) and shows what the guard answered. */
export function DeleteRoomButton({ roomId }: { roomId: string }) {
  const router = useRouter();
  const [result, setResult] = useState<string>();
  return (
    <>
      <button
        type="button"
        onClick={async () => {
          const res = await fetch(`/api/rooms/${roomId}`, { method: 'DELETE' });
          if (res.ok) {
            setResult('deleted');
            router.refresh();
          } else {
            const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
            setResult(`${res.status}: ${body.error?.message ?? res.statusText}`);
          }
        }}
      >
        Delete
      </button>
      {result && (
        <span className={result === 'deleted' ? 'ok' : 'error'} data-testid={`delete-result-${roomId}`}>
          {' '}
          {result}
        </span>
      )}
    </>
  );
}
