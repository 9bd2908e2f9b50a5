// The site search's scorer (Sphinx's `html_search_scorer`): Sphinx's default weights, and one
// change: a result on an API page (book/api/) ranks below the chapters, so that a parameter
// name such as `output_padding` finds the chapter that explains it before the docstrings
// that mention it.
var Scorer = {
  score: (result) => {
    const [docname, , , , score] = result;
    return docname.startsWith("book/api/") ? score - 20 : score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: { 0: 15, 1: 5, 2: -5 },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
