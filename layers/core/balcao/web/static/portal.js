// Small progressive enhancement only: every page works without it.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.value || source.textContent.trim()).then(() => {
    const status = document.getElementById(button.getAttribute("data-copy-status"));
    if (status) status.textContent = button.getAttribute("data-copied-text") || "";
  });
});
