/* minhu 民呼 — the workbench's own script. Everything here would otherwise be inline
   (onclick=, <script>…</script>), which the Content-Security-Policy (script-src 'self') forbids.

   data-confirm="确定要…吗？" on a <form>: asks before the form is sent; "取消" sends nothing.
   With data-confirm-unchecked="NAME" it asks only when the checkbox NAME, ticked when the page
   was loaded, is now unticked (e.g. saving a user with 启用 unticked disables the account).
   htmx forms use hx-confirm instead, which htmx handles itself. */
(function () {
  "use strict";

  function needsConfirm(form) {
    var message = form.getAttribute("data-confirm");
    if (!message) {
      return null;
    }
    var watched = form.getAttribute("data-confirm-unchecked");
    if (watched) {
      var box = form.elements.namedItem(watched);
      if (!box || box.checked || !box.defaultChecked) {
        return null;
      }
    }
    return message;
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) {
        return;
      }
      var message = needsConfirm(form);
      if (message && !window.confirm(message)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );
})();
