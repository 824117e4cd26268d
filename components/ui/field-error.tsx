export function FieldError({ id, messages }: { id: string; messages?: string[] }) {
  if (!messages?.length) return <span id={id} hidden />;
  return (
    <span id={id} className="field-error" role="alert">
      {messages.join(" ")}
    </span>
  );
}
