/** A page whose feature is still being built: it says what will be here. */
export function Placeholder({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section className="stack">
      <h1>{title}</h1>
      <div className="card placeholder">
        <p className="badge">Coming soon</p>
        <div className="muted">{children}</div>
      </div>
    </section>
  );
}
