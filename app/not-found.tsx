import { MessagePage } from "@/components/ui/message-page";

export default function NotFound() {
  return <MessagePage title="Not found">There is nothing here, or you do not have access to it.</MessagePage>;
}
