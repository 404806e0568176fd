/* Run before the first paint (not deferred): the page is laid out for JavaScript from the
 * start (collapsed menu, .js-hide), so nothing moves when site.js runs (layout shift). */
document.documentElement.classList.add('js');
