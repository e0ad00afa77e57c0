// Suggestions for the directory's search box: progressive enhancement only.
//
// Any <input data-autocomplete-url="..."> becomes GOV.UK's accessible
// autocomplete (npm accessible-autocomplete, pinned in package.json). It keeps
// the input's id and name, so the label, the hint and the GET form work as
// before; without JavaScript the box is a plain search input.
//
// The server (search/suggest.py) answers {"suggestions": [...], "categories": [...]}
// for 2 to 100 characters; we wait until typing pauses (250 ms), cancel a
// request that a newer one overtakes, and cut what is sent to 100 characters.
import './accessible-autocomplete.min.js'

const MIN_LENGTH = 2
const MAX_LENGTH = 100
const DELAY_MS = 250

function suggestionSource (url) {
  let timer = null
  let controller = null
  return (query, populate) => {
    window.clearTimeout(timer)
    const text = query.trim().slice(0, MAX_LENGTH)
    if (text.length < MIN_LENGTH) {
      populate([])
      return
    }
    timer = window.setTimeout(async () => {
      if (controller) controller.abort()
      controller = new AbortController()
      try {
        const response = await fetch(`${url}?${new URLSearchParams({ q: text })}`, {
          headers: { Accept: 'application/json' },
          signal: controller.signal
        })
        if (!response.ok) {
          populate([])
          return
        }
        const data = await response.json()
        const categories = (data.categories || []).map((category) => category.label)
        const names = (data.suggestions || []).filter((name) => !categories.includes(name))
        populate([...categories, ...names])
      } catch (error) {
        if (error.name !== 'AbortError') populate([])
      }
    }, DELAY_MS)
  }
}

// The component sets and clears aria-describedby for its own hint as it
// re-renders; keep the page's hint (and any error message) linked as well.
function keepDescribedBy (input, ids) {
  const apply = () => {
    const current = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean)
    const wanted = [...ids.split(' '), ...current.filter((id) => !ids.split(' ').includes(id))]
    if (wanted.join(' ') !== current.join(' ')) input.setAttribute('aria-describedby', wanted.join(' '))
  }
  apply()
  new MutationObserver(apply).observe(input, { attributes: true, attributeFilter: ['aria-describedby'] })
}

export function initAutocomplete (root = document) {
  const accessibleAutocomplete = window.accessibleAutocomplete
  if (!accessibleAutocomplete) return
  root.querySelectorAll('input[data-autocomplete-url]').forEach((input) => {
    const container = document.createElement('div')
    container.className = 'app-autocomplete'
    input.parentNode.insertBefore(container, input)
    const { id, name, value } = input
    const url = input.dataset.autocompleteUrl
    const describedBy = input.getAttribute('aria-describedby')
    input.remove()
    accessibleAutocomplete({
      element: container,
      id,
      name,
      defaultValue: value,
      minLength: MIN_LENGTH,
      source: suggestionSource(url),
      showNoOptionsFound: false,
      confirmOnBlur: false,
      autoselect: false,
      displayMenu: 'overlay',
      inputClasses: 'govuk-input',
      tNoResults: () => 'No suggestions',
      tStatusQueryTooShort: (length) => `Type ${length} or more characters for suggestions`
    })
    const enhanced = container.querySelector('input')
    if (enhanced) {
      enhanced.setAttribute('maxlength', String(MAX_LENGTH))
      if (describedBy) keepDescribedBy(enhanced, describedBy)
    }
  })
}
