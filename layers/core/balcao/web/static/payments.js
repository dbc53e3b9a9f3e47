// Stripe Elements on the payment pages that show a card form (loaded only there, only with Stripe keys).
(() => {
  if (typeof Stripe === "undefined") return;
  const pay = document.getElementById("card-form");
  if (pay) {
    const stripe = Stripe(pay.dataset.stripeKey);
    const elements = stripe.elements({ clientSecret: pay.dataset.clientSecret });
    const element = elements.create("payment");
    element.mount("#card-element");
    pay.addEventListener("submit", async (event) => {
      event.preventDefault();
      const { error } = await stripe.confirmPayment({
        elements,
        confirmParams: { return_url: new URL(pay.dataset.returnUrl, window.location.href).toString() },
      });
      if (error) document.getElementById("card-errors").textContent = error.message || "";
    });
  }
  const save = document.getElementById("save-card-form");
  if (save) {
    const stripe = Stripe(save.dataset.stripeKey);
    const card = stripe.elements().create("card");
    card.mount("#card-element");
    save.addEventListener("submit", async (event) => {
      const field = save.querySelector("input[name=provider_payment_method]");
      if (field.value) return;
      event.preventDefault();
      const { paymentMethod, error } = await stripe.createPaymentMethod({ type: "card", card });
      if (error) {
        document.getElementById("card-errors").textContent = error.message || "";
        return;
      }
      field.value = paymentMethod.id;
      save.submit();
    });
  }
})();
