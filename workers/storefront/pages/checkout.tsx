import type { FC } from "hono/jsx";
import { countryName } from "../../regions/country-name";

const Field: FC<{ name: string; label: string; autocomplete: string; required?: boolean; type?: string }> = ({
  name,
  label,
  autocomplete,
  required = true,
  type = "text",
}) => (
  <div class="field">
    <label for={`f-${name}`}>
      {label}
      {required ? "" : " (optional)"}
    </label>
    <input
      id={`f-${name}`}
      name={name}
      type={type}
      autocomplete={autocomplete}
      required={required}
      aria-describedby={`e-${name}`}
    />
    <span class="error-message" id={`e-${name}`} data-error-for={name} />
  </div>
);

/** Checkout shell: details and shipping are plain forms; the payment step follows the API's provider. */
export const CheckoutPage: FC<{ countries: readonly string[] }> = ({ countries }) => (
  <section data-checkout aria-labelledby="checkout-heading" class="checkout-layout">
    <div>
      <h1 id="checkout-heading">Checkout</h1>
      <noscript>
        <p>Checkout needs JavaScript enabled.</p>
      </noscript>
      <form data-details aria-labelledby="details-heading">
        <h2 id="details-heading">Contact and delivery</h2>
        <Field name="email" label="Email" autocomplete="email" type="email" />
        <Field name="name" label="Full name" autocomplete="name" />
        <Field name="line1" label="Address" autocomplete="address-line1" />
        <Field name="line2" label="Apartment, suite" autocomplete="address-line2" required={false} />
        <Field name="city" label="City" autocomplete="address-level2" />
        <Field name="region" label="State / region" autocomplete="address-level1" required={false} />
        <Field name="postal_code" label="Postal code" autocomplete="postal-code" />
        <div class="field">
          <label for="f-country">Country</label>
          <select id="f-country" name="country" autocomplete="country" aria-describedby="e-country">
            {countries
              .map((code) => [code, countryName(code)] as const)
              .sort((a, b) => a[1].localeCompare(b[1]))
              .map(([code, name]) => (
                <option value={code}>{name}</option>
              ))}
          </select>
          <span class="error-message" id="e-country" data-error-for="country" />
        </div>
        <p class="error-message" role="alert" data-details-error />
        <button type="submit">Continue to shipping</button>
      </form>
      <fieldset>
        <legend>
          <h2>Shipping method</h2>
        </legend>
        <div data-shipping-methods>
          <p>Enter your address to see shipping options.</p>
        </div>
        <p class="error-message" role="alert" data-shipping-error />
      </fieldset>
      <section data-payment hidden aria-labelledby="payment-heading">
        <h2 id="payment-heading">Payment</h2>
        <form data-pay>
          <div class="test-mode" data-test-mode hidden>
            <p>
              <strong>TEST MODE</strong> — no real payment is taken. Use a test card: 4242 4242 4242 4242
              (succeeds), 4000 0000 0000 0002 (declined), 4000 0000 0000 3220 (asks for authentication).
            </p>
            <div class="field">
              <label for="f-card">Test card number</label>
              <input
                id="f-card"
                name="card_number"
                inputmode="numeric"
                autocomplete="off"
                value="4242 4242 4242 4242"
                pattern="[0-9 ]{12,23}"
              />
            </div>
          </div>
          <div data-stripe hidden>
            <div data-stripe-mount />
          </div>
          <p class="error-message" role="alert" data-pay-error />
          <p role="status" data-pay-status />
          <button type="submit">Pay now</button>
        </form>
      </section>
    </div>
    <aside aria-labelledby="summary-heading">
      <h2 id="summary-heading">Order summary</h2>
      <ul data-summary-lines />
      <table class="totals">
        <caption class="visually-hidden">Order totals</caption>
        <tbody data-summary-totals />
      </table>
    </aside>
  </section>
);
