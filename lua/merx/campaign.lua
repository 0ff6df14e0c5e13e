local merx = ... ; return {}
