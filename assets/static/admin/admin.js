// Tuki admin: the "select all" box of a changelist, and confirmation of
// destructive buttons. No inline scripts (the pages' CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("action-toggle");
  if (all) {
    all.addEventListener("change", () => {
      document.querySelectorAll("input.action-select").forEach((box) => {
        box.checked = all.checked;
      });
    });
  }
});
