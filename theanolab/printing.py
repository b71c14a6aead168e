"""(being written)"""

def pp(var):
    return str(var)

def debugprint(obj, file=None):
    print(obj, file=file)
