import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { ServiceWorkerRegistrar } from "@/components/pwa/service-worker-registrar";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Approval Notifications", template: "%s · Approval Notifications" },
  description:
    "Reimbursement approvals with native push notifications, and background processing you can watch.",
  applicationName: "Approval Notifications",
  appleWebApp: { capable: true, title: "Approvals", statusBarStyle: "default" },
  icons: { icon: "/icons/icon-192.png", apple: "/icons/apple-touch-icon.png" },
};

// Every page renders per request: the CSP nonce that proxy.ts sets must reach Next.js's scripts.
export const dynamic = "force-dynamic";

export const viewport: Viewport = {
  themeColor: "#1f4f8b",
  width: "device-width",
  initialScale: 1,
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        {children}
        <ServiceWorkerRegistrar />
      </body>
    </html>
  );
}
