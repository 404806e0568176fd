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

  /* --- Filters that apply as they are ticked: the results and the facet counts are
   * fetched and swapped in place, the address follows (so Back and sharing work), focus
   * stays on the ticked box and the new count is announced. Without JavaScript, or when
   * the fetch fails, the form's own button and a page load do the same. ---------------- */
  var searchForm = document.querySelector('form[data-live-filters]');
  if (searchForm && window.fetch && window.DOMParser && window.URLSearchParams) {
    var pending = null;
    var announcer = document.getElementById('library-announcer');

    var applyFilters = function (source) {
      var url = searchForm.action + '?' + new URLSearchParams(new FormData(searchForm)).toString();
      if (pending) { pending.abort(); }
      pending = window.AbortController ? new AbortController() : null;
      var results = document.getElementById('library-results');
      results.setAttribute('aria-busy', 'true');
      fetch(url, {credentials: 'same-origin', signal: pending ? pending.signal : undefined})
        .then(function (response) {
          if (!response.ok) { throw new Error('HTTP ' + response.status); }
          return response.text();
        })
        .then(function (text) {
          var fresh = new DOMParser().parseFromString(text, 'text/html');
          var freshResults = fresh.getElementById('library-results');
          var freshFacets = fresh.getElementById('library-facets');
          var facets = document.getElementById('library-facets');
          if (!freshResults || !freshFacets || !facets) { window.location.assign(url); return; }
          // The sort menu keeps its own element: site.js has bound its auto-submit to it.
          var sortMenu = results.querySelector('.sort-form');
          results.innerHTML = freshResults.innerHTML;
          var freshSort = results.querySelector('.sort-form');
          if (sortMenu && freshSort) { freshSort.replaceWith(sortMenu); }
          results.removeAttribute('aria-busy');
          facets.innerHTML = freshFacets.innerHTML;
          window.history.pushState(null, '', url);
          var again = facets.querySelector('input[name="' + CSS.escape(source.name) +
                                           '"][value="' + CSS.escape(source.value) + '"]');
          if (again) {
            var folded = again.closest('details:not([open])');
            if (folded) { folded.open = true; }
            again.focus();
          }
          var count = results.querySelector('.results-count');
          if (announcer && count) { announcer.textContent = count.textContent.trim(); }
        })
        .catch(function (error) {
          if (error && error.name === 'AbortError') { return; }
          window.location.assign(url);
        });
    };

    searchForm.addEventListener('change', function (event) {
      var box = event.target;
      if (box.type === 'checkbox' && box.closest('#library-facets')) { applyFilters(box); }
    });
    // Back and forward through filter choices load the page they name.
    window.addEventListener('popstate', function () { window.location.reload(); });
  }

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
