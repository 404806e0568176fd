/*
 * Buyergroup: a searchable picker for linking library items (the agenda form).
 *
 * Without this file the form has a text field for item numbers or links ("12, 15"), and
 * the server reads that. With it, the field becomes hidden and keeps the same value, while
 * the organiser searches by title (the library API, with their own session, so only items
 * they may see are offered), picks with the mouse or the keyboard (an ARIA 1.2 combobox:
 * arrows, Enter, Escape) and sees the chosen items by title, each with a remove button.
 */
(function () {
  'use strict';

  var box = document.querySelector('[data-library-picker]');
  if (!box || !window.fetch) { return; }
  var field = box.querySelector('input[type="text"]');
  if (!field) { return; }

  var lang = document.documentElement.lang || 'en';
  var texts = box.dataset;
  var chosen = [];
  try { chosen = JSON.parse(texts.chosen || '[]'); } catch (e) { chosen = []; }

  // The numbers field stays in the form, hidden, and carries the choice.
  var wrapper = field.closest('.field') || box;
  var label = wrapper.querySelector('label');
  var oldHint = wrapper.querySelector('.hint');
  var error = wrapper.querySelector('.error');
  field.type = 'hidden';
  if (label) { label.hidden = true; }
  if (oldHint) { oldHint.hidden = true; }

  var uid = field.id;
  var search = document.createElement('input');
  search.type = 'text';
  search.id = uid + '-search';
  search.autocomplete = 'off';
  search.setAttribute('role', 'combobox');
  search.setAttribute('aria-autocomplete', 'list');
  search.setAttribute('aria-expanded', 'false');
  search.setAttribute('aria-controls', uid + '-options');
  var describedBy = [uid + '-search-hint'];
  if (error) { describedBy.push(error.id); search.setAttribute('aria-invalid', 'true'); }
  search.setAttribute('aria-describedby', describedBy.join(' '));

  var searchLabel = document.createElement('label');
  searchLabel.htmlFor = search.id;
  searchLabel.textContent = texts.searchLabel;
  var hint = document.createElement('p');
  hint.className = 'hint';
  hint.id = uid + '-search-hint';
  hint.textContent = texts.searchHint;

  var options = document.createElement('ul');
  options.id = uid + '-options';
  options.className = 'picker-options';
  options.setAttribute('role', 'listbox');
  options.setAttribute('aria-label', texts.searchLabel);
  options.hidden = true;

  var status = document.createElement('p');
  status.className = 'visually-hidden';
  status.setAttribute('aria-live', 'polite');

  var chosenTitle = document.createElement('p');
  chosenTitle.className = 'picker-chosen-label';
  chosenTitle.id = uid + '-chosen-label';
  chosenTitle.textContent = texts.chosenLabel;
  var chosenList = document.createElement('ul');
  chosenList.className = 'picker-chosen';
  chosenList.setAttribute('aria-labelledby', chosenTitle.id);

  var combo = document.createElement('div');
  combo.className = 'picker-combo';
  combo.appendChild(search);
  combo.appendChild(options);
  [searchLabel, hint, combo, status, chosenTitle, chosenList].forEach(function (node) {
    wrapper.appendChild(node);
  });

  function sync() {
    field.value = chosen.map(function (item) { return item.id; }).join(', ');
    chosenList.innerHTML = '';
    chosenTitle.hidden = chosen.length === 0;
    chosen.forEach(function (item, index) {
      var li = document.createElement('li');
      var name = document.createElement('span');
      name.textContent = item.title;
      if (item.language) { name.lang = item.language; }
      var remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'button-small button-secondary';
      remove.textContent = '×';
      remove.setAttribute('aria-label', texts.remove.replace('{title}', item.title));
      remove.addEventListener('click', function () {
        chosen.splice(index, 1);
        sync();
        search.focus();
      });
      li.appendChild(name);
      li.appendChild(document.createTextNode(' '));
      li.appendChild(remove);
      chosenList.appendChild(li);
    });
  }

  var found = [];
  var active = -1;
  var timer = null;
  var pending = null;

  function close() {
    options.hidden = true;
    search.setAttribute('aria-expanded', 'false');
    search.removeAttribute('aria-activedescendant');
    active = -1;
  }

  function highlight(index) {
    var nodes = options.querySelectorAll('[role="option"]');
    Array.prototype.forEach.call(nodes, function (node, i) {
      node.setAttribute('aria-selected', i === index ? 'true' : 'false');
    });
    active = index;
    if (index >= 0 && nodes[index]) {
      search.setAttribute('aria-activedescendant', nodes[index].id);
      nodes[index].scrollIntoView({block: 'nearest'});
    } else {
      search.removeAttribute('aria-activedescendant');
    }
  }

  function pick(index) {
    var item = found[index];
    if (!item) { return; }
    chosen.push(item);
    sync();
    search.value = '';
    close();
    status.textContent = '';
  }

  function show(items) {
    var taken = chosen.map(function (item) { return item.id; });
    found = items.filter(function (item) { return taken.indexOf(item.id) === -1; });
    options.innerHTML = '';
    found.forEach(function (item, index) {
      var li = document.createElement('li');
      li.id = uid + '-option-' + item.id;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      li.textContent = item.title;
      if (item.language) {
        li.lang = item.language;
        var code = document.createElement('span');
        code.className = 'meta';
        code.textContent = ' ' + item.language.toUpperCase();
        li.appendChild(code);
      }
      // mousedown, not click: the search field keeps focus.
      li.addEventListener('mousedown', function (event) { event.preventDefault(); pick(index); });
      options.appendChild(li);
    });
    if (!found.length) {
      var none = document.createElement('li');
      none.className = 'picker-none';
      none.textContent = texts.none;
      options.appendChild(none);
    }
    options.hidden = false;
    search.setAttribute('aria-expanded', 'true');
    status.textContent = found.length ? texts.results.replace('{count}', found.length.toLocaleString(lang)) : texts.none;
    highlight(-1);
  }

  function lookUp() {
    var words = search.value.trim();
    if (words.length < 2) { close(); return; }
    if (pending && pending.abort) { pending.abort(); }
    pending = window.AbortController ? new AbortController() : null;
    var url = texts.api + '?per_page=8&q=' + encodeURIComponent(words);
    fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'},
                signal: pending ? pending.signal : undefined})
      .then(function (response) { return response.ok ? response.json() : {items: []}; })
      .then(function (data) {
        show((data.items || []).map(function (item) {
          return {id: item.id, title: item.title, language: item.language};
        }));
      })
      .catch(function () { /* aborted or offline: the list stays as it was */ });
  }

  search.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(lookUp, 200);
  });
  search.addEventListener('keydown', function (event) {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      if (options.hidden) { lookUp(); return; }
      highlight(Math.min(active + 1, found.length - 1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === 'Enter') {
      // Enter picks the highlighted item; it never submits the form half-way.
      if (!options.hidden) {
        event.preventDefault();
        if (active >= 0) { pick(active); }
      }
    } else if (event.key === 'Escape') {
      if (!options.hidden) { event.preventDefault(); close(); }
    }
  });
  search.addEventListener('blur', close);

  sync();
})();
