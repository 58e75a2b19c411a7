import { log } from "../lib/logging";

export type NotificationKind =
  | "order_confirmation"
  | "order_shipped"
  | "order_delivered"
  | "order_cancelled"
  | "order_refunded";

export interface Notification {
  kind: NotificationKind;
  to: string;
  orderId: string;
  orderNumber: string;
  /** Template variables (tracking number, refund amount …). */
  data: Record<string, unknown>;
}

/** Where customer notifications go. Swap in an email provider by implementing `send`. */
export interface Notifier {
  send(notification: Notification): Promise<void>;
}

/** Default sink: one structured log line per notification (visible in `wrangler dev` and Workers Logs). */
export const logNotifier: Notifier = {
  async send(notification) {
    log("info", "notification", {
      kind: notification.kind,
      to: notification.to,
      order_id: notification.orderId,
      order_number: notification.orderNumber,
      ...notification.data,
    });
  },
};
