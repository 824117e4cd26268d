import { MessagePage } from "@/components/ui/message-page";

export default function Forbidden() {
  return (
    <MessagePage title="Not allowed">
      Your account does not have access to this page. If you think it should, ask an administrator.
    </MessagePage>
  );
}
