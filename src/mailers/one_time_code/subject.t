{{ subject }}
