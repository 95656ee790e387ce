// The portal works without JavaScript; with it, answers save as they are typed and
// questions with conditions appear and disappear as the answers change.
(function () {
  "use strict";
  const form = document.getElementById("answers");
  if (!form) return;
  const saveUrl = form.dataset.autosave;
  const csrf = form.querySelector("input[name=csrf_token]").value;
  const timers = new Map();

  function valuesOf(questionId) {
    const name = "a-" + questionId;
    return Array.from(form.elements)
      .filter((el) => el.name === name && ((el.type !== "radio" && el.type !== "checkbox") || el.checked))
      .map((el) => el.value);
  }

  function isVisible(block) {
    const rule = block.dataset.showIf ? JSON.parse(block.dataset.showIf) : null;
    if (!rule) return true;
    const target = document.getElementById("q-" + rule.question);
    if (target && !isVisible(target)) return false;
    return valuesOf(rule.question).some((v) => rule.values.includes(v));
  }

  function refreshVisibility() {
    form.querySelectorAll(".question[data-show-if]").forEach((block) => {
      block.hidden = !isVisible(block);
    });
  }

  function save(block) {
    const data = new FormData();
    const id = block.dataset.question;
    data.append("question", id);
    block.querySelectorAll("input, textarea, select").forEach((el) => {
      if (el.type === "file" || el.name === "remove_file") return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      data.append(el.name, el.value);
    });
    const state = block.querySelector(".save-state");
    fetch(saveUrl, { method: "POST", body: data, credentials: "same-origin",
                     headers: { "X-CSRFToken": csrf, "Accept": "application/json" } })
      .then((response) => response.json().then((body) => ({ response, body })))
      .then(({ response, body }) => {
        if (body.version !== undefined) block.querySelector("input[name^='v-']").value = body.version;
        if (state) state.textContent = response.ok ? form.dataset.savedText || "✓" : body.message;
        block.classList.toggle("has-error", !response.ok);
      })
      .catch(() => { if (state) state.textContent = "…"; });
  }

  form.addEventListener("input", (event) => {
    const block = event.target.closest(".question");
    refreshVisibility();
    if (!block || event.target.type === "file" || event.target.name === "remove_file") return;
    clearTimeout(timers.get(block));
    timers.set(block, setTimeout(() => save(block), 800));
  });
  refreshVisibility();
})();
