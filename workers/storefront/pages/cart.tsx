import type { FC } from "hono/jsx";

/** Cart page shell; lines, promotions and totals are filled in from the Store API. */
export const CartPage: FC = () => (
  <section data-cart aria-labelledby="cart-heading">
    <h1 id="cart-heading">Your cart</h1>
    <p role="status" data-cart-status>
      Loading your cart…
    </p>
    <p class="error-message" role="alert" data-cart-error />
    <noscript>
      <p>The cart needs JavaScript enabled.</p>
    </noscript>
    <div data-cart-body hidden>
      <ul class="cart-lines" data-lines />
      <form class="inline-form" data-promo aria-label="Promotion code">
        <div class="field">
          <label for="promo-code">Promotion code</label>
          <input id="promo-code" name="code" autocomplete="off" />
        </div>
        <button type="submit" class="secondary">
          Apply
        </button>
      </form>
      <p class="error-message" role="alert" data-promo-error />
      <ul data-promo-list />
      <table class="totals">
        <caption class="visually-hidden">Order totals</caption>
        <tbody data-totals />
      </table>
      <a class="button" href="/checkout">
        Check out
      </a>
    </div>
  </section>
);
