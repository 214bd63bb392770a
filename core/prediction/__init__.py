"""One prediction's outputs by kind: score tables (`tables`), where one class stands (`query`), and the
downloads (`downloads`)."""
