// Social Care Connect – progressive enhancement only.
//
// Every page must work without JavaScript. This module is loaded with
// <script type="module" src="{% static 'dist/js/application.mjs' %}">, so
// browsers that don't support ES modules never run it (and GOV.UK Frontend's
// `govuk-frontend-supported` body class is only added when they do).
//
// bin/build-assets copies this file next to govuk-frontend.min.js in
// static/dist/js/, hence the relative import.
import { initAll } from './govuk-frontend.min.js'
import { initAutocomplete } from './autocomplete.mjs'

initAll()
initAutocomplete()
