/*
 * Buyergroup: small progressive enhancements. Vanilla JS, no dependencies.
 * Loaded with `defer`, so the document has been parsed when this runs.
 * Every page works without this file; it only makes things more convenient.
 * No inline scripts anywhere (the Content Security Policy forbids them).
 */
(function () {
  'use strict';

  var root = document.documentElement;

  // Lets CSS know that JS runs (.js .js-hide, collapsing nav on small screens).
  root.classList.add('js');

  /* ---------------------------------------------------------------
   * Main menu toggle (small screens)
   * The toggle button shows only with the .js class (site.css); without JS the nav stays
   * visible.
   * ------------------------------------------------------------- */
  var toggle = document.querySelector('.menu-toggle');
  var menu = document.getElementById('main-menu');

  function setMenu(open) {
    menu.classList.toggle('is-open', open);
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
  }

  if (toggle && menu) {
    setMenu(false);

    toggle.addEventListener('click', function () {
      setMenu(toggle.getAttribute('aria-expanded') !== 'true');
    });

    // Escape closes the open menu and returns focus to the toggle.
    document.addEventListener('keydown', function (event) {
      // offsetParent is null when the toggle is not displayed (wide screens).
      if ((event.key === 'Escape' || event.key === 'Esc') &&
          menu.classList.contains('is-open') && toggle.offsetParent !== null) {
        setMenu(false);
        toggle.focus();
      }
    });
  }

  /* ---------------------------------------------------------------
   * select[data-autosubmit] (the language switcher)
   * Mouse/touch choice: submit at once. Keyboard: arrow keys on a closed
   * <select> fire "change" for every step in some browsers, which would
   * reload the page mid-choice (WCAG 3.2.2), so for keyboard changes we
   * wait for Enter and reveal the form's fallback submit button instead.
   * ------------------------------------------------------------- */
  function submitForm(form) {
    if (typeof form.requestSubmit === 'function') {
      form.requestSubmit(); // fires "submit" so listeners (data-confirm) run
    } else {
      form.submit();
    }
  }

  Array.prototype.forEach.call(
    document.querySelectorAll('select[data-autosubmit]'),
    function (select) {
      var form = select.form;
      var byKeyboard = false;
      if (!form) { return; }

      select.addEventListener('pointerdown', function () { byKeyboard = false; });
      select.addEventListener('mousedown', function () { byKeyboard = false; });

      select.addEventListener('keydown', function (event) {
        if (event.key === 'Enter') {
          event.preventDefault();
          submitForm(form);
        } else if (event.key !== 'Tab' && event.key !== 'Shift') {
          byKeyboard = true;
        }
      });

      select.addEventListener('change', function () {
        if (byKeyboard) {
          // Show the "Change language" button so the choice can be confirmed.
          Array.prototype.forEach.call(form.querySelectorAll('.js-hide'), function (el) {
            el.classList.remove('js-hide');
          });
        } else {
          submitForm(form);
        }
      });
    }
  );

  /* ---------------------------------------------------------------
   * [data-confirm]: ask before a destructive action.
   * Works on submit buttons, links and whole forms.
   * ------------------------------------------------------------- */
  function confirmed(el) {
    var text = el.getAttribute('data-confirm');
    return window.confirm(text || 'Are you sure?');
  }

  // Buttons and links: ask on click (also covers Enter in a text field,
  // which "clicks" the form's default button).
  document.addEventListener('click', function (event) {
    var el = event.target.closest ? event.target.closest('[data-confirm]') : null;
    if (!el || el.tagName === 'FORM') { return; }
    if (!confirmed(el)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Forms: ask on submit, unless the submit button already asked.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute('data-confirm')) { return; }
    if (event.submitter && event.submitter.hasAttribute('data-confirm')) { return; }
    if (!confirmed(form)) {
      event.preventDefault();
    }
  }, true);

  /* ---------------------------------------------------------------
   * Error summary: move focus to it so screen readers announce it,
   * and make its links focus the field they point to.
   * ------------------------------------------------------------- */
  var summary = document.querySelector('.error-summary');
  if (summary) {
    if (!summary.hasAttribute('tabindex')) {
      summary.setAttribute('tabindex', '-1');
    }
    summary.focus();

    summary.addEventListener('click', function (event) {
      var link = event.target.closest ? event.target.closest('a[href^="#"]') : null;
      if (!link) { return; }
      var id = decodeURIComponent(link.getAttribute('href').slice(1));
      // Checkbox groups have no element with the field id: use the first option.
      var target = document.getElementById(id) || document.getElementById(id + '-0');
      if (!target) { return; }
      event.preventDefault();
      // Scroll the field's wrapper into view so its label and error are visible too.
      var wrapper = target.closest('.field') || target;
      wrapper.scrollIntoView({ block: 'start' });
      target.focus({ preventScroll: true });
    });
  }

  /* ---------------------------------------------------------------
   * [data-copy="element-id"]: copy that element's text to the clipboard,
   * then show data-copied-label on the button for 2 seconds.
   * A polite live region announces the result to screen readers.
   * ------------------------------------------------------------- */
  var liveRegion = null;

  function announce(message) {
    if (!liveRegion) {
      liveRegion = document.createElement('div');
      liveRegion.className = 'visually-hidden';
      liveRegion.setAttribute('role', 'status');
      liveRegion.setAttribute('aria-live', 'polite');
      document.body.appendChild(liveRegion);
    }
    liveRegion.textContent = '';
    window.setTimeout(function () { liveRegion.textContent = message; }, 50);
  }

  // Older fallback: copy from a temporary, off-screen textarea.
  function copyWithExecCommand(text) {
    var area = document.createElement('textarea');
    var active = document.activeElement;
    var ok = false;
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.top = '0';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(area);
    if (active && active.focus) { active.focus(); } // keep focus on the button
    return ok ? Promise.resolve() : Promise.reject(new Error('copy failed'));
  }

  // Clipboard API where available (HTTPS), falling back when it is missing or refused.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyWithExecCommand(text);
      });
    }
    return copyWithExecCommand(text);
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-copy]'), function (button) {
    var original = button.textContent;
    var timer = null;

    // Copy buttons are useless without JS, so templates may ship them [hidden].
    button.hidden = false;

    button.addEventListener('click', function (event) {
      event.preventDefault();
      var source = document.getElementById(button.getAttribute('data-copy'));
      if (!source) { return; }
      var text = ('value' in source && typeof source.value === 'string')
        ? source.value
        : source.textContent;

      copyText(text.trim()).then(function () {
        var label = button.getAttribute('data-copied-label');
        if (!label) { return; }
        button.textContent = label;
        announce(label);
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { button.textContent = original; }, 2000);
      }, function () {
        // Copy failed (permissions): select the text so the user can copy it by hand.
        var range = document.createRange();
        range.selectNodeContents(source);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      });
    });
  });

  /* ---------------------------------------------------------------
   * Long text fields: count down to the limit instead of letting the
   * browser cut a pasted text without a word. The field loses its
   * maxlength (so nothing typed or pasted is lost) and the server's own
   * length check refuses an over-long text with a message on the field.
   * ------------------------------------------------------------- */
  Array.prototype.forEach.call(document.querySelectorAll('[data-limit-for]'), function (note) {
    var field = document.getElementById(note.getAttribute('data-limit-for'));
    var limit = parseInt(note.getAttribute('data-limit'), 10);
    if (!field || !limit) { return; }
    var initial = note.textContent;
    field.removeAttribute('maxlength');
    function update() {
      var length = field.value.length;
      if (length === 0) {
        note.textContent = initial;
        note.classList.remove('is-over');
      } else if (length <= limit) {
        note.textContent = note.getAttribute('data-left').replace('{count}', (limit - length).toLocaleString(root.lang));
        note.classList.remove('is-over');
      } else {
        note.textContent = note.getAttribute('data-over').replace('{count}', (length - limit).toLocaleString(root.lang));
        note.classList.add('is-over');
      }
    }
    field.addEventListener('input', update);
    update();
  });

  /* ---------------------------------------------------------------
   * Scrollable tables: make .table-wrap keyboard-scrollable when it
   * actually overflows (WCAG 2.1.1; axe "scrollable-region-focusable").
   * ------------------------------------------------------------- */
  var captionCount = 0;

  function checkTableWraps() {
    Array.prototype.forEach.call(document.querySelectorAll('.table-wrap'), function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute('tabindex', '0');
        // Name the region after the table caption, when there is one.
        var caption = wrap.querySelector('caption');
        if (caption && !wrap.hasAttribute('aria-labelledby') && !wrap.hasAttribute('aria-label')) {
          if (!caption.id) { caption.id = 'table-caption-' + (++captionCount); }
          wrap.setAttribute('role', 'region');
          wrap.setAttribute('aria-labelledby', caption.id);
        }
      } else if (wrap.getAttribute('tabindex') === '0') {
        wrap.removeAttribute('tabindex');
      }
    });
  }
  checkTableWraps();
  window.addEventListener('resize', checkTableWraps);
})();
