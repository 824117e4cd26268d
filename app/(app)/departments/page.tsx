import type { Metadata } from "next";
import { DepartmentsView } from "@/components/departments/departments-view";
import { Notice } from "@/components/ui/notice";
import { requireUser } from "@/lib/auth/guards";
import { listDepartments, listProcessingDepartments } from "@/lib/departments/queries";

export const metadata: Metadata = { title: "Departments" };
export const dynamic = "force-dynamic";

export default async function Page() {
  const user = await requireUser();
  const [departments, processing] = await Promise.all([listDepartments(), listProcessingDepartments()]);
  return (
    <section className="stack">
      <h1>Departments</h1>
      <Notice tone="info" as="div">
        <p className="demo-info">
          Choose a department to edit it. <strong>Process</strong> saves your changes and processes the
          department in the background: it takes a minute or two, and you can keep working meanwhile. Follow
          it on <a href="/processing/status">Processing status</a>. A department is processed by one user at a
          time; turn on <strong>Hide Process Button</strong> in your user menu to hide the button for
          departments someone is already processing.
        </p>
      </Notice>
      <DepartmentsView
        departments={departments}
        processing={processing}
        hideProcessButton={user.preferences.hideProcessButton === true}
      />
    </section>
  );
}
