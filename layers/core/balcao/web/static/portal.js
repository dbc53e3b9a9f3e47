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

// Forms marked data-keep-draft keep what was typed while the visitor leaves to attach a file (this tab only);
// without JavaScript the forms ask for the files first.
document.querySelectorAll("form[data-keep-draft]").forEach((form) => {
  const key = "balcao-draft:" + form.getAttribute("data-keep-draft");
  const kept = (element) => element.name && element.name !== "csrf_token" && element.type !== "hidden";
  let saved = {};
  try {
    saved = JSON.parse(sessionStorage.getItem(key) || "{}");
  } catch (error) {
    saved = {};
  }
  for (const element of form.elements) {
    if (!kept(element) || !(element.name in saved)) continue;
    if (element.type === "radio") {
      element.checked = element.value === saved[element.name];
    } else if (!element.value || element.tagName === "SELECT") {
      element.value = saved[element.name];
    }
  }
  const save = () => {
    const values = {};
    for (const element of form.elements) {
      if (kept(element) && (element.type !== "radio" || element.checked)) values[element.name] = element.value;
    }
    sessionStorage.setItem(key, JSON.stringify(values));
  };
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", () => sessionStorage.removeItem(key));
});
