"""Import suppliers and their contacts from a CSV or XLSX file; the web pages and the CLI share it.

A file goes through these modules in order:
- `files`: read the upload into a `Table` of text, or refuse it (`FileRefused`); keep it
  between the steps of the web pages;
- `columns`: the importable fields, and which column of the file holds which (`guess_mapping`);
- `rows`: each cell checked and read into the value to store;
- `planning`: the rows matched with the register and merged per supplier, writing nothing;
- `writing`: `apply` writes a plan in the caller's transaction (flush, never commit);
- `preview` and `template`: what the pages and the CLI show, and the template to fill in.

A row is one supplier and at most one contact. Messages are translated when made, in the current
locale.
"""
