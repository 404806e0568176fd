/*
 * Buyergroup library: progressive enhancements. Without this file the filters stay open
 * and every field of the form shows, with one fieldset per kind of item; the server checks
 * everything again anyway.
 *
 * - Folds the search filters on narrow screens ([data-fold-narrow]).
 * - Shows only the fieldsets that belong to the chosen kind ([data-kinds]).
 * - Swaps the hint under the text field to match the kind (#section-text[data-hints]).
 * - Refuses, before uploading, files over the size limit (input[data-max-bytes]) or too
 *   many files (input[data-max-files]), and says so next to the field, so nothing typed
 *   is lost to a rejected upload.
 */
(function () {
  'use strict';

  /* --- The library's filters: folded on narrow screens, where they sit above the results.
   * Folded only when nothing is chosen yet, so chosen filters stay in view. ------------- */
  var filters = document.querySelector('details[data-fold-narrow]');
  if (filters && window.matchMedia('(max-width: 59.99rem)').matches &&
      !filters.querySelector('input:checked')) {
    filters.open = false;
  }
  // From here on the details element folds by itself (library.css hid its content so far).
  if (filters) { filters.setAttribute('data-folded', ''); }

  var form = document.getElementById('item-form');
  if (!form) { return; }

  /* --- Fieldsets per kind --------------------------------------------------------------- */
  var kind = form.querySelector('select[name="kind"]');
  var sections = form.querySelectorAll('[data-kinds]');
  var textSection = document.getElementById('section-text');
  var hints = {};
  try { hints = JSON.parse(textSection.getAttribute('data-hints') || '{}'); } catch (e) { hints = {}; }

  function showKind() {
    var chosen = kind.value;
    Array.prototype.forEach.call(sections, function (section) {
      var kinds = section.getAttribute('data-kinds').split(' ');
      section.hidden = kinds.indexOf(chosen) === -1;
    });
    var hint = document.getElementById('body-hint');
    if (hint && hints[chosen]) { hint.textContent = hints[chosen]; }
  }

  if (kind) {
    kind.addEventListener('change', showKind);
    showKind();
  }

  /* --- File checks before upload ---------------------------------------------------------- */
  var input = form.querySelector('input[type="file"][data-max-bytes]');
  if (!input) { return; }
  var maxBytes = parseInt(input.getAttribute('data-max-bytes'), 10);
  var maxFiles = parseInt(input.getAttribute('data-max-files') || '0', 10);
  var wrapper = input.closest('.field');
  var errorId = input.id + '-client-error';

  function problem() {
    var files = input.files || [];
    if (maxFiles && files.length > maxFiles) {
      return input.getAttribute('data-too-many');
    }
    for (var i = 0; i < files.length; i++) {
      if (files[i].size > maxBytes) {
        return input.getAttribute('data-too-large').replace('%(name)s', files[i].name);
      }
    }
    return '';
  }

  function showProblem(message) {
    var error = document.getElementById(errorId);
    var described = (input.getAttribute('aria-describedby') || '').split(' ').filter(function (id) {
      return id && id !== errorId;
    });
    if (!message) {
      if (error) { error.parentNode.removeChild(error); }
      input.removeAttribute('aria-invalid');
      wrapper.classList.remove('has-error');
      input.setAttribute('aria-describedby', described.join(' '));
      return;
    }
    if (!error) {
      error = document.createElement('p');
      error.className = 'error';
      error.id = errorId;
      error.setAttribute('role', 'alert');
      input.parentNode.insertBefore(error, input);
    }
    error.textContent = message;
    input.setAttribute('aria-invalid', 'true');
    wrapper.classList.add('has-error');
    described.push(errorId);
    input.setAttribute('aria-describedby', described.join(' '));
  }

  input.addEventListener('change', function () { showProblem(problem()); });
  form.addEventListener('submit', function (event) {
    var message = problem();
    if (message) {
      event.preventDefault();
      showProblem(message);
      input.focus();
    }
  });
})();
