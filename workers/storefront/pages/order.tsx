import type { FC } from "hono/jsx";

/** Order status page, reached through the order's lookup link (`/orders/:id?token=…`). */
export const OrderPage: FC<{ orderId: string; justPlaced: boolean }> = ({ orderId, justPlaced }) => (
  <section data-order data-order-id={orderId} aria-labelledby="order-heading">
    {justPlaced ? (
      <div class="notice success" role="status">
        <h1 id="order-heading">Thank you — your order is confirmed</h1>
        <p>We've emailed you a receipt. Bookmark this page to check your order's status.</p>
      </div>
    ) : (
      <h1 id="order-heading">Your order</h1>
    )}
    <p class="error-message" role="alert" data-order-error />
    <div data-order-body hidden>
      <dl>
        <dt>Order number</dt>
        <dd data-order-number />
        <dt>Status</dt>
        <dd data-order-status />
        <dt>Payment</dt>
        <dd data-order-payment />
        <dt>Placed</dt>
        <dd data-order-date />
        <dt>Email</dt>
        <dd data-order-email />
        <dt>Shipping</dt>
        <dd data-order-shipping />
      </dl>
      <h2>Items</h2>
      <ul data-order-lines />
      <table class="totals">
        <caption class="visually-hidden">Order totals</caption>
        <tbody data-order-totals />
      </table>
    </div>
  </section>
);
